import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecisionEvent, OfferEvent } from '../../../src/actions/offer-schema.js';
import { readOffer, SeenOffers } from '../../../examples/offer-consumer.js';

const doc = readFileSync('docs/offers.md', 'utf8');
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { type: string });

describe('docs/offers.md', () => {
  it('every JSON example is a valid offer or decision event', () => {
    expect(jsonBlocks.length).toBe(2);
    for (const block of jsonBlocks) {
      const schema = block.type === 'cpiwatch.offer.v1' ? OfferEvent : DecisionEvent;
      expect(schema.safeParse(block).error).toBeUndefined();
    }
  });

  it('the typed consumer example reads the documented offer once', () => {
    const offer = jsonBlocks.find((b) => b.type === 'cpiwatch.offer.v1')!;
    const parsed = readOffer(Buffer.from(JSON.stringify(offer)));
    expect(parsed?.data.offer.code).toBe('CURBSIDE-DRINK');
    expect(readOffer(Buffer.from('{"type":"something.else"}'))).toBeUndefined();
    expect(readOffer(Buffer.from('not json'))).toBeUndefined();
    const seen = new SeenOffers();
    expect([seen.firstTime(parsed!.id), seen.firstTime(parsed!.id)]).toEqual([true, false]);
  });
});
