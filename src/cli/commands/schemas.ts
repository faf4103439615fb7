/** `cpiwatch schemas [--out dir]`: regenerates every published JSON Schema from the zod schemas. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderOfferSchemas } from '../../actions/offer-schema.js';
import { writeEventsDoc } from '../../events/events-doc.js';
import { writeEventSchemas } from '../../events/json-schemas.js';
import { writeRuleFileJsonSchema } from '../../rules/json-schema.js';
import { type CliIo, parseArgs } from '../io.js';

export async function schemasCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags } = parseArgs(argv, ['help']);
  if (flags.help) { io.stdout('Usage: cpiwatch schemas [--out <dir>] [--docs <events.md>]\n\nWrites the JSON Schemas of events, rule files, offers and decisions.'); return 0; }
  const out = typeof flags.out === 'string' ? flags.out : 'schemas';
  await mkdir(out, { recursive: true });
  const written = [...(await writeEventSchemas(out)), await writeRuleFileJsonSchema(out)];
  for (const [name, text] of renderOfferSchemas()) {
    await writeFile(join(out, name), text);
    written.push(join(out, name));
  }
  if (typeof flags.docs === 'string') await writeEventsDoc(flags.docs);
  io.stdout(written.join('\n'));
  return 0;
}
