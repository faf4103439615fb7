/**
 * docs/events.md is tested: its generated part is current, every CloudEvent example in it decodes,
 * and the header + value examples decode in the mode they claim.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEvent, type KafkaHeaders } from '../../../src/events/decode.js';
import { EVENT_TYPE_NAMES } from '../../../src/events/event-types.js';
import { updateEventsDoc } from '../../../src/events/events-doc.js';
import { fencedBlocks } from '../../support/markdown.js';

const DOC = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
const LIMITS = { maxBytes: 1_048_576 };

const blocks = fencedBlocks(DOC);

describe('docs/events.md', () => {
  it('has an up-to-date generated event type reference', () => {
    expect(updateEventsDoc(DOC), 'regenerate with writeEventsDoc("docs/events.md")').toBe(DOC);
  });

  it('documents every event type with a heading and an example', () => {
    for (const type of EVENT_TYPE_NAMES) {
      expect(DOC).toContain(`### \`${type}\``);
      const example = blocks.some((b) => b.info.startsWith('json') && b.body.includes(`"type": "${type}"`));
      expect(example, `no example for ${type}`).toBe(true);
    }
  });

  const cloudEvents = blocks.filter((b) => b.info.split(' ')[0] === 'json' && /"specversion"/.test(b.body));

  it('has CloudEvent examples', () => {
    expect(cloudEvents.length).toBeGreaterThanOrEqual(EVENT_TYPE_NAMES.length + 1);
  });

  it.each(cloudEvents.map((b) => [b.line, b] as const))('example at line %i decodes', (_line, block) => {
    const r = decodeEvent({ value: Buffer.from(block.body) }, LIMITS);
    expect(r.ok ? 'ok' : `${r.code} ${r.reason}`).toBe('ok');
  });

  it('has header + value examples that decode in the mode they show', () => {
    const pairs: Array<{ headers: KafkaHeaders; value: string; line: number }> = [];
    for (let i = 0; i < blocks.length; i++) {
      if (blocks[i]!.info !== 'text kafka-headers') continue;
      const next = blocks[i + 1];
      expect(next?.info, `kafka-headers block at line ${blocks[i]!.line} must be followed by a kafka-value block`).toBe('json kafka-value');
      const headers: KafkaHeaders = {};
      for (const l of blocks[i]!.body.split('\n')) {
        const colon = l.indexOf(':');
        headers[l.slice(0, colon)] = Buffer.from(l.slice(colon + 1).trim());
      }
      pairs.push({ headers, value: next!.body, line: blocks[i]!.line });
    }
    expect(pairs.map((p) => ('ce_specversion' in p.headers ? 'binary' : 'structured'))).toEqual(['structured', 'binary']);
    const decoded = pairs.map((p) => decodeEvent({ headers: p.headers, value: Buffer.from(p.value) }, LIMITS));
    expect(decoded.map((r) => (r.ok ? r.mode : `${r.code} ${r.reason}`))).toEqual(['structured', 'binary']);
    // the two are the same event
    const [s, b] = decoded;
    if (s?.ok && b?.ok) expect({ ...b.event, datacontenttype: undefined }).toEqual({ ...s.event, datacontenttype: undefined });
  });
});
