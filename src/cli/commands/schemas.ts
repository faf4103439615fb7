/**
 * `cpiwatch schemas [--out dir] [--rules dir]`: regenerates every published JSON Schema from the zod
 * schemas: one per event type of the shipped library, and with --rules one per type the rule folder
 * declares (and the built-in types it extends, with their added fields).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderOfferSchemas } from '../../actions/offer-schema.js';
import { writeEventsDoc } from '../../events/events-doc.js';
import { writeEventSchemas } from '../../events/json-schemas.js';
import { BUILTIN_EVENT_TYPES } from '../../events/library.js';
import { writeRuleFileJsonSchema } from '../../rules/json-schema.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { defineCommand } from '../flags.js';

export const schemasCommand = defineCommand({
  name: 'schemas',
  usage: ['cpiwatch schemas [--out <dir>] [--docs <events.md>] [--rules <dir|file>]'],
  description: 'Writes the JSON Schemas of events, rule files, offers and decisions.',
  options: {
    out: { type: 'string', value: 'dir', default: 'schemas', description: 'the directory to write them to' },
    docs: { type: 'string', value: 'events.md', description: 'also regenerate this Markdown reference of the event types' },
    rules: { type: 'string', value: 'dir|file', description: 'also the event types these rule files declare (eventTypes:), in the schemas and the reference' },
  },
}, async ({ out, docs, rules }, _args, io) => {
  let eventTypes = BUILTIN_EVENT_TYPES;
  if (rules !== undefined) {
    const loaded = await loadRuleSet([rules]);
    if (!loaded.ok) {
      for (const e of loaded.errors) io.stderr(formatRuleError(e));
      io.stderr(`cpiwatch schemas: ${loaded.errors.length} error(s) in ${rules}; nothing written`);
      return 1;
    }
    eventTypes = loaded.ruleSet.eventTypes ?? BUILTIN_EVENT_TYPES;
  }
  await mkdir(out, { recursive: true });
  const written = [...(await writeEventSchemas(out, eventTypes)), await writeRuleFileJsonSchema(out)];
  for (const [name, text] of renderOfferSchemas()) {
    await writeFile(join(out, name), text);
    written.push(join(out, name));
  }
  if (docs !== undefined) await writeEventsDoc(docs, eventTypes);
  io.stdout(written.join('\n'));
  return 0;
});
