/**
 * JSON Schemas of our events, generated from the declared event types (registry.ts: the shipped
 * library and a rule folder's `eventTypes:`), never written by hand. One file per event type
 * describes the whole structured-mode CloudEvent of that type; cloudevent.schema.json describes the
 * envelope shared by all types.
 *
 *   schemas/cloudevent.schema.json
 *   schemas/events/<type>.schema.json
 *
 * `writeEventSchemas(dir)` writes them; a unit test regenerates them in memory and compares with the
 * committed files, so they cannot drift from the code.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EXAMPLE_EVENTS } from './examples.js';
import { EVENT_TYPE_NAMES } from './event-types.js';
import { BUILTIN_EVENT_TYPES } from './library.js';
import type { DeclaredEventType, EventTypeRegistry } from './registry.js';

/** Layout of the traceparent attribute that decode.ts keeps (other values are dropped). */
const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The context attributes, as zod schemas (documentation and JSON Schema only; decode.ts validates by hand for speed). */
function attributes() {
  return {
    specversion: z.literal('1.0').describe('CloudEvents specification version: always "1.0".'),
    id: z
      .string()
      .min(1)
      .describe('Identifies the event; source + id is unique. A redelivered event keeps its id.'),
    source: z
      .string()
      .min(1)
      .describe('URI-reference of the producer, e.g. urn:acme:store:store-0042:curbside.'),
    time: z.iso
      .datetime({ offset: true })
      .describe('When it happened, RFC 3339. Required by cpiwatch: CPI windows use event time.'),
    subject: z
      .string()
      .min(1)
      .optional()
      .describe('What the event is about within the source, e.g. the order id.'),
    datacontenttype: z
      .string()
      .min(1)
      .optional()
      .describe('Media type of data; when present it must be JSON (application/json or */*+json).'),
    traceparent: z
      .string()
      .regex(TRACEPARENT_PATTERN)
      .optional()
      .describe('W3C trace context (CloudEvents distributed-tracing extension); kept from event to offer.'),
  };
}

/** The CloudEvents attributes, in wire order, around a type and a data schema. */
function envelope<T extends z.ZodType, D extends z.ZodType>(type: T, data: D) {
  const { specversion, id, source, time, subject, datacontenttype, traceparent } = attributes();
  return z.looseObject({ specversion, id, source, type, time, subject, datacontenttype, traceparent, data });
}

/** zod schema of a whole structured-mode event of one type, wire form (time as a string). */
export function wireEventSchema(type: string, registry: EventTypeRegistry = BUILTIN_EVENT_TYPES) {
  const declared = registry.get(type);
  if (!declared) throw new Error(`unknown event type ${type}`);
  return envelope(z.literal(type).describe('The event type.'), declared.schema)
    .meta({
      title: `cpiwatch event ${type}`,
      description: `${declared.description ?? type} A CloudEvents 1.0 event in JSON (structured mode); in Kafka binary mode the same attributes travel as ce_* headers and data is the message value. Attributes not listed here are CloudEvents extensions and are ignored.`,
      ...examplesOf(declared),
    });
}

/** The example event of a type: the built-in ones from examples.ts, a declared type's from its `example:` data. */
export function exampleEventOf(declared: DeclaredEventType): Record<string, unknown> | undefined {
  const builtin = (EXAMPLE_EVENTS as unknown as Record<string, Record<string, unknown>>)[declared.name];
  if (builtin) return declared.example ? { ...builtin, data: { ...(builtin.data as object), ...declared.example } } : builtin;
  if (!declared.example) return undefined;
  return { specversion: '1.0', id: 'example-1', source: 'urn:example:producer', type: declared.name, time: '2025-03-14T17:05:12Z', data: declared.example };
}

function examplesOf(declared: DeclaredEventType): { examples?: unknown[] } {
  const example = exampleEventOf(declared);
  return example ? { examples: [example] } : {};
}

/** zod schema of any cpiwatch event: the envelope, data only checked to be an object. */
export function wireEnvelopeSchema() {
  return envelope(
    z.enum(EVENT_TYPE_NAMES).describe('The event type; see schemas/events/<type>.schema.json for its data.'),
    z.looseObject({}).describe('The event data; its schema depends on type.'),
  )
    .meta({
      title: 'cpiwatch event envelope',
      description:
        'The CloudEvents 1.0 envelope of every event cpiwatch consumes (structured mode, JSON). Attribute order is free; attributes not listed are extensions and are ignored.',
    });
}

function toJson(schema: z.ZodType): string {
  return `${JSON.stringify(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }), null, 2)}\n`;
}

/** JSON Schema object of one event type (the content of schemas/events/<type>.schema.json). */
export function eventJsonSchema(type: string, registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): Record<string, unknown> {
  return JSON.parse(toJson(wireEventSchema(type, registry))) as Record<string, unknown>;
}

/**
 * Every generated schema file: path relative to the schemas folder -> file content. The envelope
 * lists the built-in types; each type of `registry` (a rule folder's own included) gets its file.
 */
export function renderEventSchemas(registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): Map<string, string> {
  const files = new Map<string, string>();
  files.set('cloudevent.schema.json', toJson(wireEnvelopeSchema()));
  for (const type of registry.names) files.set(`events/${type}.schema.json`, toJson(wireEventSchema(type, registry)));
  return files;
}

/**
 * Writes the schemas under `dir` (the repository's schemas/ folder): dir/cloudevent.schema.json and
 * dir/events/<type>.schema.json. Removes *.schema.json files in dir/events that no longer match a
 * type. Returns the paths written.
 */
export async function writeEventSchemas(dir: string, registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): Promise<string[]> {
  const files = renderEventSchemas(registry);
  const eventsDir = join(dir, 'events');
  await mkdir(eventsDir, { recursive: true });
  const written: string[] = [];
  for (const [rel, content] of files) {
    const path = join(dir, rel);
    await writeFile(path, content, 'utf8');
    written.push(path);
  }
  for (const name of await readdir(eventsDir)) {
    if (name.endsWith('.schema.json') && !files.has(`events/${name}`)) await rm(join(eventsDir, name));
  }
  return written;
}
