import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/events/decode.js';
import { EXAMPLE_EVENTS } from '../../../src/events/examples.js';
import { EVENT_TYPE_NAMES } from '../../../src/events/event-types.js';
import {
  eventJsonSchema,
  renderEventSchemas,
  wireEnvelopeSchema,
  wireEventSchema,
  writeEventSchemas,
} from '../../../src/events/json-schemas.js';

const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));
const REGENERATE = 'regenerate with writeEventSchemas("schemas") (the `cpiwatch schemas` command)';

describe('generated JSON Schemas', () => {
  it('match the committed files under schemas/ (no drift from the zod schemas)', async () => {
    for (const [rel, content] of renderEventSchemas()) {
      const committed = await readFile(join(SCHEMAS_DIR, rel), 'utf8').catch(() => `(missing ${rel})`);
      expect(committed, `schemas/${rel} is stale: ${REGENERATE}`).toBe(content);
    }
  });

  it('cover exactly the known event types', async () => {
    const committed = (await readdir(join(SCHEMAS_DIR, 'events'))).filter((f) => f.endsWith('.schema.json')).sort();
    expect(committed, `schemas/events/ has stale files: ${REGENERATE}`).toEqual(
      EVENT_TYPE_NAMES.map((t) => `${t}.schema.json`).sort(),
    );
  });

  it('describe the whole event with the data schema of its type', () => {
    const schema = eventJsonSchema('curbside.arrived') as {
      required: string[];
      properties: Record<string, { const?: string; required?: string[]; properties?: Record<string, unknown> }>;
    };
    expect(schema.required).toEqual(['specversion', 'id', 'source', 'type', 'time', 'data']);
    expect(schema.properties.type?.const).toBe('curbside.arrived');
    expect(schema.properties.data?.required).toEqual(['orderId', 'storeId', 'customerId']);
    expect(schema.properties.data?.properties).toHaveProperty('promisedWaitSeconds', {
      description: 'The wait the customer was promised (at least 0.001 s)',
      type: 'number',
      minimum: 0.001,
    });
  });

  it('are written by writeEventSchemas, which also removes files of types that no longer exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-schemas-'));
    try {
      await writeEventSchemas(dir);
      await writeFile(join(dir, 'events', 'gone.type.schema.json'), '{}');
      await writeFile(join(dir, 'events', 'README.md'), 'kept');
      const written = await writeEventSchemas(dir);
      expect(written).toHaveLength(EVENT_TYPE_NAMES.length + 1);
      const files = await readdir(join(dir, 'events'));
      expect(files).not.toContain('gone.type.schema.json');
      expect(files).toContain('README.md');
      const roundTrip = await readFile(join(dir, 'events', 'customer.profile.schema.json'), 'utf8');
      expect(roundTrip).toBe(renderEventSchemas().get('events/customer.profile.schema.json'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accept every example event, as the decoder does', () => {
    for (const type of EVENT_TYPE_NAMES) {
      const example = EXAMPLE_EVENTS[type];
      expect(wireEventSchema(type).safeParse(example).success, type).toBe(true);
      expect(wireEnvelopeSchema().safeParse(example).success, type).toBe(true);
      const decoded = decodeEvent({ value: Buffer.from(JSON.stringify(example)) }, { maxBytes: 1e6 });
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
    }
  });

  it('reject what the decoder rejects for envelope and data', () => {
    const bad = { ...EXAMPLE_EVENTS['ticket.resolved'], data: { ...EXAMPLE_EVENTS['ticket.resolved'].data, contacts: 0 } };
    expect(wireEventSchema('ticket.resolved').safeParse(bad).success).toBe(false);
    expect(decodeEvent({ value: Buffer.from(JSON.stringify(bad)) }, { maxBytes: 1e6 }).ok).toBe(false);
    const noTime = { ...EXAMPLE_EVENTS['ticket.resolved'], time: '2025-02-30T00:00:00Z' };
    expect(wireEnvelopeSchema().safeParse(noTime).success).toBe(false);
    expect(decodeEvent({ value: Buffer.from(JSON.stringify(noTime)) }, { maxBytes: 1e6 }).ok).toBe(false);
  });
});
