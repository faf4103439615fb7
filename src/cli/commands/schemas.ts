/** `cpiwatch schemas [--out dir]`: regenerates every published JSON Schema from the zod schemas. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderOfferSchemas } from '../../actions/offer-schema.js';
import { writeEventsDoc } from '../../events/events-doc.js';
import { writeEventSchemas } from '../../events/json-schemas.js';
import { writeRuleFileJsonSchema } from '../../rules/json-schema.js';
import { defineCommand } from '../flags.js';

export const schemasCommand = defineCommand({
  name: 'schemas',
  usage: ['cpiwatch schemas [--out <dir>] [--docs <events.md>]'],
  description: 'Writes the JSON Schemas of events, rule files, offers and decisions.',
  options: {
    out: { type: 'string', value: 'dir', default: 'schemas', description: 'the directory to write them to' },
    docs: { type: 'string', value: 'events.md', description: 'also regenerate this Markdown reference of the event types' },
  },
}, async ({ out, docs }, _args, io) => {
  await mkdir(out, { recursive: true });
  const written = [...(await writeEventSchemas(out)), await writeRuleFileJsonSchema(out)];
  for (const [name, text] of renderOfferSchemas()) {
    await writeFile(join(out, name), text);
    written.push(join(out, name));
  }
  if (docs !== undefined) await writeEventsDoc(docs);
  io.stdout(written.join('\n'));
  return 0;
});
