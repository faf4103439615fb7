import { describe, expect, it } from 'vitest';
import { EntityState } from '../../../src/entities/entity-state.js';

const enroute = (customer: string, time: number) => ({ kind: 'enroute' as const, offset: time, time, customer, etaMs: 600_000, keepMs: 60_000 });

describe('an entity\'s audiences', () => {
  it('are pruned on stream time only: an op from a source far ahead drops nothing a close has yet to read', () => {
    const e = new EntityState('storeId=S1');
    e.apply(enroute('c1', 1_000), null, new Map());
    e.apply(enroute('c2', 900_000), null, new Map()); // no stream time yet (a source has not reported)
    expect(e.audience('enroute', undefined, 0, 1_000_000).map((r) => r.customer)).toEqual(['c1', 'c2']);
    e.apply(enroute('c3', 950_000), 100_000, new Map()); // stream time 100 s: c1 (1 s) is older than the 60 s kept
    expect(e.audience('enroute', undefined, 0, 1_000_000).map((r) => r.customer)).toEqual(['c2', 'c3']);
  });
});
