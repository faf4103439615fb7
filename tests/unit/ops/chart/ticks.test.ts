import { describe, expect, it } from 'vitest';
import { dateTimeLabel, niceTicks, timeTicks, zoneOffset } from '../../../../src/ops/chart/ticks.js';

describe('niceTicks', () => {
  it('gives round steps (1, 2, 2.5 or 5 times a power of ten) and ticks covering the range', () => {
    // the example: 0.951 .. 2.25 read 0.951 / 1.6 / 2.25
    expect(niceTicks(0.951, 2.25, 5)).toEqual({ ticks: [0.5, 1, 1.5, 2, 2.5], step: 0.5 });
    expect(niceTicks(0.951, 2.25, 8)).toEqual({ ticks: [0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2.2, 2.4], step: 0.2 });
    expect(niceTicks(0, 100, 5)).toEqual({ ticks: [0, 20, 40, 60, 80, 100], step: 20 });
    expect(niceTicks(0.03, 0.17, 4).ticks).toEqual([0, 0.05, 0.1, 0.15, 0.2]);
    expect(niceTicks(-7, 23, 5).ticks).toEqual([-10, 0, 10, 20, 30]);
    expect(niceTicks(-7, 23, 6).ticks).toEqual([-10, -5, 0, 5, 10, 15, 20, 25]);
  });

  it('has no binary noise and copes with a flat or reversed range', () => {
    for (const t of niceTicks(0.1, 0.7, 6).ticks) expect(String(t)).toMatch(/^0(\.\d)?$/);
    expect(niceTicks(5, 5).ticks.length).toBeGreaterThan(1);
    expect(niceTicks(10, 0).ticks[0]).toBe(0);
    expect(niceTicks(Number.NaN, 1).ticks).toEqual([]);
  });
});

describe('timeTicks', () => {
  const at = (iso: string) => Date.parse(iso);

  it('labels round local times of the zone, with the date on the first tick and at midnight', () => {
    // 43 minutes in UTC: every 10 minutes for about 5 ticks, every 15 for about 4
    expect(timeTicks(at('2026-11-23T17:04:00Z'), at('2026-11-23T17:47:00Z'), 'UTC', 4).map((t) => t.label)).toEqual(['11-23 17:15', '17:30', '17:45']);
    expect(timeTicks(at('2026-11-23T17:04:00Z'), at('2026-11-23T17:47:00Z'), 'UTC', 5).map((t) => t.label)).toEqual(['11-23 17:10', '17:20', '17:30', '17:40']);
    // the same instants in Chicago (UTC-6 in November)
    expect(timeTicks(at('2026-11-23T17:04:00Z'), at('2026-11-23T17:47:00Z'), 'America/Chicago', 5).map((t) => t.label)).toEqual(['11-23 11:10', '11:20', '11:30', '11:40']);
    // across midnight in Kolkata (UTC+5:30): ticks on round local hours, the new day dated
    const k = timeTicks(at('2026-11-23T16:00:00Z'), at('2026-11-23T22:00:00Z'), 'Asia/Kolkata', 6);
    expect(k.map((t) => t.label)).toEqual(['11-23 22:00', '23:00', '11-24 00:00', '01:00', '02:00', '03:00']);
    expect(new Date(k[0]!.at).toISOString()).toBe('2026-11-23T16:30:00.000Z');
  });

  it('keeps to about the number asked, whatever the span', () => {
    for (const [span, count] of [[5 * 60_000, 5], [3 * 3_600_000, 6], [9 * 86_400_000, 6]] as const) {
      const ticks = timeTicks(0, span, 'Europe/Madrid', count);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(count + 1);
    }
  });

  it('knows a zone offset, summer time included, and reads an unknown zone as UTC', () => {
    expect(zoneOffset(at('2026-07-01T12:00:00Z'), 'Europe/Madrid')).toBe(2 * 3_600_000);
    expect(zoneOffset(at('2026-12-01T12:00:00Z'), 'Europe/Madrid')).toBe(3_600_000);
    expect(dateTimeLabel(at('2026-12-01T12:00:00Z'), 'Not/AZone')).toBe('2026-12-01 12:00');
  });
});
