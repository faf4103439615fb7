import { describe, expect, it } from 'vitest';
import { renderChart } from '../../../../src/ops/chart/svg-chart.js';

const T0 = Date.parse('2026-11-23T17:00:00Z');
const min = (m: number) => T0 + m * 60_000;

describe('renderChart', () => {
  const svg = renderChart({
    label: 'wait <p90> in storeId=A',
    timeZone: 'America/Chicago',
    series: [{ label: 'p90', color: '#2563eb', points: [{ at: min(0), value: 0.8 }, { at: min(10), value: null }, { at: min(20), value: 2.1 }, { at: min(40), value: 0.9 }] }],
    lines: [{ value: 1.25, label: 'fires above 1.25', color: 'red', kind: 'fire' }, { value: 1, label: 'clears at 1', color: 'green', kind: 'clear' }],
    marks: [{ at: min(20), kind: 'fire', color: 'red', title: 'fired' }, { at: min(21), kind: 'fire', color: 'red', title: 'fired again' }, { at: min(40), kind: 'clear', color: 'green', title: 'cleared' }],
    events: [{ at: min(20), kind: 'offer', title: 'offer to c1' }, { at: min(22), kind: 'suppressed', title: 'suppressed (holdout): c2' }],
    shades: [{ from: min(20), to: min(40), color: 'red' }],
  });

  it('is one self-contained SVG: no script, no link, the label escaped', () => {
    expect(svg).toMatch(/^<svg class="chart" /);
    expect(svg).not.toMatch(/<script|href=|url\(/);
    expect(svg).toContain('aria-label="wait &lt;p90&gt; in storeId=A"');
  });

  it('has round y ticks and times of the zone on the x axis', () => {
    const y = [...svg.matchAll(/class="ytick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(y).toEqual(['0.5', '1', '1.5', '2', '2.5']);
    const x = [...svg.matchAll(/class="xtick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(x[0]).toBe('11-23 11:00');
    expect(x.slice(1).every((l) => /^11:\d0$/.test(l!))).toBe(true);
    expect(svg).toContain('times in America/Chicago');
  });

  it('prints fire and clear times, leaving one that would overlap to its title', () => {
    const labels = [...svg.matchAll(/class="mark-label"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(['▲11:20', '▼11:40']);
    expect(svg).toContain('<title>fired again</title>');
  });

  it('draws a gap where there is no value, and the decisions on the timeline row', () => {
    expect([...svg.matchAll(/<path class="value" d="([^"]+)"/g)].map((m) => m[1]!.split('M').length - 1)).toEqual([2]);
    expect(svg.match(/class="offer-mark"/g)).toHaveLength(1);
    expect(svg.match(/class="suppressed-mark"/g)).toHaveLength(1);
    expect(svg).toContain('<title>suppressed (holdout): c2</title>');
    expect(svg.match(/class="rule-line (fire|clear)"/g)).toHaveLength(2);
  });
});
