import { describe, expect, it } from 'vitest';
import { holdoutBucket, inQuietHours, isHeldOut, minuteOfDay } from '../../../src/guardrails/stateless.js';
import { conditionHolds, predicateHolds } from '../../../src/cpis/predicate.js';

describe('stateless guardrails', () => {
  it('holdout is deterministic and close to the requested share', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `customer-${i}`);
    const held = ids.filter((c) => isHeldOut('rule-a', c, 10)).length / ids.length;
    expect(held).toBeGreaterThan(0.09);
    expect(held).toBeLessThan(0.11);
    expect(isHeldOut('rule-a', 'c-1', 10)).toBe(isHeldOut('rule-a', 'c-1', 10));
    expect(ids.some((c) => isHeldOut('rule-a', c, 0))).toBe(false);
    expect(ids.every((c) => isHeldOut('rule-a', c, 100))).toBe(true);
    expect(holdoutBucket('rule-a', 'c-1')).not.toBe(holdoutBucket('rule-b', 'c-1'));
  });

  it('quiet hours use the local time of the zone, across midnight', () => {
    const t = Date.UTC(2026, 6, 1, 3, 30); // 22:30 in Chicago (CDT, UTC-5)
    expect(minuteOfDay(t, 'America/Chicago')).toBe(22 * 60 + 30);
    expect(inQuietHours(t, 22 * 60, 7 * 60, 'America/Chicago')).toBe(true);
    expect(inQuietHours(t, 22 * 60, 7 * 60, 'UTC')).toBe(true);
    expect(inQuietHours(t, 22 * 60, 7 * 60, 'Asia/Tokyo')).toBe(false); // 12:30
    expect(inQuietHours(t, 9 * 60, 17 * 60, 'Asia/Tokyo')).toBe(true);
    expect(inQuietHours(t, 60, 60, 'UTC')).toBe(false);
  });
});

describe('conditions', () => {
  it('compare scalars, sets and ranges; numbers match numeric strings', () => {
    expect(conditionHolds('gold', { in: ['gold', 'platinum'] })).toBe(true);
    expect(conditionHolds('silver', { in: ['gold', 'platinum'] })).toBe(false);
    expect(conditionHolds('1200', { gte: 1000 })).toBe(true);
    expect(conditionHolds(undefined, { gte: 1000 })).toBe(false);
    expect(conditionHolds(true, true)).toBe(true);
    expect(conditionHolds(undefined, { exists: false })).toBe(true);
    expect(predicateHolds({ a: { b: 2 } }, { 'a.b': { gt: 1, lt: 3 } })).toBe(true);
    expect(predicateHolds({ a: 1 }, { '__proto__.x': { exists: true } })).toBe(false);
  });
});
