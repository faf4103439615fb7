/**
 * The event type reference in docs/events.md, generated from the same JSON Schemas (and examples) as
 * schemas/events/, between two markers: the declared types of a registry (the shipped library for
 * docs/events.md itself). The rest of docs/events.md is written by hand.
 * A unit test checks the committed document equals `updateEventsDoc(itself)`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { eventJsonSchema, exampleEventOf } from './json-schemas.js';
import { BUILTIN_EVENT_TYPES } from './library.js';
import type { EventTypeRegistry } from './registry.js';

export const DOC_BEGIN = '<!-- BEGIN GENERATED: event types (src/events/events-doc.ts; do not edit by hand) -->';
export const DOC_END = '<!-- END GENERATED: event types -->';

interface SchemaNode {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeOf(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  const base = node.type ?? 'any';
  if (node.format === 'email') return `${base} (e-mail address)`;
  if (node.format) return `${base} (${node.format})`;
  return base;
}

function constraintsOf(node: SchemaNode): string {
  const parts: string[] = [];
  if (node.minLength !== undefined && node.maxLength !== undefined) {
    parts.push(`${node.minLength} to ${node.maxLength} characters`);
  } else if (node.minLength !== undefined) {
    parts.push(`at least ${node.minLength} character${node.minLength === 1 ? '' : 's'}`);
  } else if (node.maxLength !== undefined) {
    parts.push(`at most ${node.maxLength} characters`);
  }
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) parts.push(`>= ${node.minimum}`);
  if (node.exclusiveMaximum !== undefined) parts.push(`< ${node.exclusiveMaximum}`);
  if (node.maximum !== undefined && node.maximum !== Number.MAX_SAFE_INTEGER) parts.push(`<= ${node.maximum}`);
  if (node.pattern !== undefined && node.format === undefined) parts.push(`matches \`${node.pattern}\``);
  return parts.join(', ');
}

function anchorOf(type: string): string {
  return type.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

function typeSection(type: string, registry: EventTypeRegistry): string {
  const declared = registry.get(type)!;
  const example = exampleEventOf(declared);
  const schema = eventJsonSchema(type, registry) as { properties: { data: SchemaNode } };
  const data = schema.properties.data;
  const required = new Set(data.required ?? []);
  const rows = Object.entries(data.properties ?? {}).map(
    ([name, node]) =>
      `| \`${name}\` | ${cell(typeOf(node))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(constraintsOf(node))} | ${cell(node.description ?? '')} |`,
  );
  return [
    `### \`${type}\``,
    '',
    declared.description ?? '',
    '',
    `JSON Schema: [\`schemas/events/${type}.schema.json\`](../schemas/events/${type}.schema.json)`,
    '',
    '| Field of `data` | Type | Required | Constraints | Description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...(example ? ['Example (structured mode):', '', '```json', JSON.stringify(example, null, 2), '```', ''] : []),
  ].join('\n');
}

/** The generated part of docs/events.md, markers excluded. */
export function renderEventTypesDoc(registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): string {
  const index = registry.names.map((t) => `| [\`${t}\`](#${anchorOf(t)}) | ${cell(registry.get(t)!.description ?? '')} |`);
  return [
    '',
    '| Type | Meaning |',
    '|---|---|',
    ...index,
    '',
    'In every type, `data` is an open object: fields not listed are kept on the event and never rejected (only a number too large for a double is), but a rule may name listed fields only. To use another field, declare it: see [Declaring event types](#declaring-event-types).',
    '',
    ...registry.names.map((t) => typeSection(t, registry)),
  ].join('\n');
}

/** Replaces the generated section of a docs/events.md text (between DOC_BEGIN and DOC_END). */
export function updateEventsDoc(markdown: string, registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): string {
  const begin = markdown.indexOf(DOC_BEGIN);
  const end = markdown.indexOf(DOC_END);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(`docs/events.md must contain the markers ${DOC_BEGIN} and ${DOC_END}`);
  }
  return `${markdown.slice(0, begin + DOC_BEGIN.length)}\n${renderEventTypesDoc(registry)}\n${markdown.slice(end)}`;
}

/** Regenerates the event type reference in the given docs/events.md file; true if it changed. */
export async function writeEventsDoc(file: string, registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): Promise<boolean> {
  const before = await readFile(file, 'utf8');
  const after = updateEventsDoc(before, registry);
  if (after === before) return false;
  await writeFile(file, after, 'utf8');
  return true;
}
