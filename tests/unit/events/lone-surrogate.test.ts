// A lone UTF-16 surrogate (a \ud800 escape without its pair) is valid JSON but no text: it cannot be
// stored or keyed as UTF-8 (Redis' cjson rejects it; Buffer turns it into U+FFFD, so two ids would
// share state). Such an event is dead-lettered with the path of the string, at decoding.
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/events/decode.js';

const event = (data: string) => Buffer.from(`{"specversion":"1.0","id":"e1","source":"urn:t","type":"customer.profile","time":"2026-01-01T00:00:00Z","data":${data}}`);

describe('lone surrogates', () => {
  it('dead-letter the event with the path of the string', () => {
    const r = decodeEvent({ value: event('{"customerId":"c1","valueTier":"gold","lifetimeValue":1,"name":"\\ud800"}') }, { maxBytes: 65536 });
    expect(r).toMatchObject({ ok: false, code: 'CPW200' });
    expect(!r.ok && r.reason).toContain('data.name holds a lone UTF-16 surrogate');
  });

  it('in a key too, while escaped pairs (emoji) are text', () => {
    expect(decodeEvent({ value: event('{"customerId":"c1","valueTier":"gold","lifetimeValue":1,"\\udfff":1}') }, { maxBytes: 65536 }).ok).toBe(false);
    expect(decodeEvent({ value: event('{"customerId":"c\\ud83e\\uddcb","valueTier":"gold","lifetimeValue":1}') }, { maxBytes: 65536 }).ok).toBe(true);
  });
});
