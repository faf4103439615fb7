/**
 * The JSON Schema of rule files, generated from the zod schema (never written by hand), for editors
 * with the YAML language server: autocompletion, hover help and inline errors. Rule files opt in
 * with a first line such as
 *
 *   # yaml-language-server: $schema=../schemas/rule-file.schema.json
 *
 * The committed copy is schemas/rule-file.schema.json; a test fails when it is out of date
 * (regenerate with `npm run schemas`, which calls writeRuleFileJsonSchema).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EVENT_TYPE_NAME } from '../events/declaration-schema.js';
import { EVENT_TYPE_NAMES } from '../events/event-types.js';
import { RuleFile } from './schema.js';

export const RULE_FILE_SCHEMA_NAME = 'rule-file.schema.json';

/**
 * The schema as an object. `io: 'input'` describes what a person writes: fields with defaults are
 * optional. Cross-field checks (unknown CPIs, window arithmetic, ...) are beyond JSON Schema; only
 * `cpiwatch validate` makes them.
 */
export function ruleFileJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(RuleFile, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  listEventTypes(generated);
  oneConditionForm(generated);
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'https://cpiwatch.dev/schemas/rule-file.schema.json',
    title: 'cpiwatch rule file',
    description:
      'CPIs (customer performance indicators) measured over sliding windows, the rules that fire offers when a CPI breaches its threshold, and the policy across all rules. Check a file with `cpiwatch validate`.',
    ...rest,
  };
}

/**
 * Every `event` field of a measure names an event type: the built-in ones are listed as examples, so
 * editors complete them, and any name of the declarations' form is allowed, so a type the rules
 * folder declares is not flagged (whether it is declared is CPW304 in `cpiwatch validate`).
 */
function listEventTypes(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(listEventTypes);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  const props = obj.properties as Record<string, Record<string, unknown>> | undefined;
  const event = props?.event;
  if (event && event.type === 'string') {
    // the built-in types for completion; a type the rules folder declares (eventTypes:) is valid too
    event.pattern = EVENT_TYPE_NAME.source;
    event.examples = [...EVENT_TYPE_NAMES];
  }
  for (const value of Object.values(obj)) listEventTypes(value);
}

/** A rule has cpi, aggregate and threshold, or when (zod has them optional; CPW345 in `validate`). */
function oneConditionForm(schema: Record<string, unknown>): void {
  const rule = ((schema.properties as Record<string, { items: Record<string, unknown> }>).rules!).items;
  rule.anyOf = [{ required: ['cpi', 'aggregate', 'threshold'] }, { required: ['when'] }];
}

/** The schema as the committed file holds it: two-space indented JSON and a final newline. */
export function ruleFileJsonSchemaText(): string {
  return `${JSON.stringify(ruleFileJsonSchema(), null, 2)}\n`;
}

/** Writes `<dir>/rule-file.schema.json` and returns its path. */
export async function writeRuleFileJsonSchema(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, RULE_FILE_SCHEMA_NAME);
  await writeFile(path, ruleFileJsonSchemaText(), 'utf8');
  return path;
}
