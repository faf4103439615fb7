import { describe, expect, it } from 'vitest';
import { peekEventTime } from '../../../src/events/peek-time.js';
import { Alignment } from '../../../src/stream-time/alignment.js';
import { alignmentBoundOf } from '../../../src/stream-time/alignment-bound.js';
import { loadRuleSet } from '../../../src/rules/load.js';

describe('watermark alignment', () => {
  it('lets no partition run further than the bound ahead of the slowest, and never stops the slowest', () => {
    const a = new Alignment(60_000);
    a.arrived('t:0', 0);
    a.arrived('t:1', 10 * 60_000);
    expect(a.limit()).toBe(60_000);
    a.wait('t:1', 10 * 60_000);
    a.processed('t:0', 60_000, false);
    expect(a.ready()).toEqual([]);
    a.processed('t:0', 9 * 60_000, false);
    expect(a.ready()).toEqual(['t:1']); // 10 min <= 9 min + 1 min
  });

  it('does not wait for partitions that are caught up, nor for those that left', () => {
    const a = new Alignment(1000);
    a.processed('t:0', 5000, true);
    a.arrived('t:1', 90_000);
    expect(a.limit()).toBe(91_000);
    a.processed('t:2', 10, false);
    a.remove('t:2');
    expect(a.limit()).toBe(91_000);
    a.boundMs = null;
    a.processed('t:3', 0, false);
    expect(a.limit()).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes half the smallest allowedLateness, at most all of it, and is off when a CPI allows none', async () => {
    const curbside = await loadRuleSet(['rules/curbside.yaml']);
    const all = await loadRuleSet(['rules']);
    if (!curbside.ok || !all.ok) throw new Error('rules');
    expect(alignmentBoundOf('auto', curbside.ruleSet)).toBe(60_000);
    expect(alignmentBoundOf('10m', curbside.ruleSet)).toBe(120_000);
    expect(alignmentBoundOf('30s', curbside.ruleSet)).toBe(30_000);
    expect(alignmentBoundOf('off', curbside.ruleSet)).toBeNull();
    expect(alignmentBoundOf('auto', all.ruleSet)).toBeNull();
  });
});

describe('peeking at an event time', () => {
  it('reads the ce_time header or the structured event\'s time, and gives up on anything else', () => {
    expect(peekEventTime({ value: Buffer.from('{"specversion":"1.0","time" : "2026-01-01T00:00:01Z","data":{}}') })).toBe(Date.parse('2026-01-01T00:00:01Z'));
    expect(peekEventTime({ value: Buffer.from('x'), headers: { ce_time: '2026-01-01T00:00:02Z' } })).toBe(Date.parse('2026-01-01T00:00:02Z'));
    expect(peekEventTime({ value: Buffer.from('{"time":12}') })).toBeUndefined();
    expect(peekEventTime({ value: null })).toBeUndefined();
  });
});
