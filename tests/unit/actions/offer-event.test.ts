import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/actions/decision.js';
import { offerIdOf } from '../../../src/actions/offer-id.js';
import { decisionEventOf, offerEventOf } from '../../../src/actions/offer-event.js';
import { DecisionEvent, OfferEvent, renderOfferSchemas } from '../../../src/actions/offer-schema.js';
import { loadRuleSet } from '../../../src/rules/load.js';

async function decision(over: Partial<Decision> = {}): Promise<Decision> {
  const loaded = await loadRuleSet(['rules']);
  if (!loaded.ok) throw new Error('example rules invalid');
  const rule = loaded.ruleSet.rules.find((r) => r.id === 'curbside-flash-drink')!;
  const episode = Date.UTC(2026, 10, 23, 18, 6);
  return {
    offerId: offerIdOf(rule.id, 'C1', 'storeId=S1', episode),
    outcome: 'offered', rule, customerId: 'C1', scopeTag: 'storeId=S1', time: episode, episode, value: 1.62, replay: false,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ...over,
  };
}

describe('offer and decision events', () => {
  it('offer ids are deterministic UUIDs per rule, customer, scope and episode', () => {
    const a = offerIdOf('r', 'c', 'storeId=S1', 1);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(offerIdOf('r', 'c', 'storeId=S1', 1)).toBe(a);
    expect(new Set([offerIdOf('r2', 'c', 'storeId=S1', 1), offerIdOf('r', 'c2', 'storeId=S1', 1), offerIdOf('r', 'c', 'storeId=S2', 1), offerIdOf('r', 'c', 'storeId=S1', 2)]).has(a)).toBe(false);
  });

  it('an offer event matches the published v1 schema and carries everything downstream needs', async () => {
    const event = offerEventOf(await decision());
    expect(OfferEvent.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      id: event.data.offerId, type: 'cpiwatch.offer.v1', subject: 'C1',
      data: {
        rule: { id: 'curbside-flash-drink' },
        trigger: { cpi: 'curbside-wait-vs-promise', aggregate: 'p90', value: 1.62, threshold: 1.25, scope: { dimension: 'storeId', value: 'S1' } },
        offer: { kind: 'complimentary-drink', code: 'CURBSIDE-DRINK', issuedAt: '2026-11-23T18:06:00.000Z', expiresAt: '2026-11-23T20:06:00.000Z', redemption: { channel: 'store-bar' } },
        channels: { email: true },
      },
    });
  });

  it('a suppressed decision says why', async () => {
    const event = decisionEventOf(await decision({ outcome: 'suppressed', reason: 'holdout' }));
    expect(DecisionEvent.parse(event).data).toMatchObject({ outcome: 'suppressed', reason: 'holdout' });
  });

  it('v1 grows additively: offer.locale is optional, and the published schemas admit fields they do not name', () => {
    const schema = JSON.parse(readFileSync('schemas/offer.v1.schema.json', 'utf8')) as { properties: { data: { properties: { offer: { properties: Record<string, unknown>; required: string[] } } } } };
    const offer = schema.properties.data.properties.offer;
    expect(offer.properties.locale).toMatchObject({ type: 'string' });
    expect(offer.required).not.toContain('locale');
    for (const name of ['offer.v1.schema.json', 'decision.v1.schema.json']) expect(readFileSync(`schemas/${name}`, 'utf8')).not.toContain('"additionalProperties": false');
  });

  it('the committed JSON Schemas are generated from the zod schemas', () => {
    for (const [name, text] of renderOfferSchemas()) expect(readFileSync(`schemas/${name}`, 'utf8')).toBe(text);
  });
});
