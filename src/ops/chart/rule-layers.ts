/**
 * A rule's part of a chart (svg-chart.ts): its CPI aggregate's values in one scope, its fire and
 * clear lines, the moments it fired and cleared, its firing episodes shaded, and its decisions on
 * the timeline row. The backtest report and the live page build their charts from these.
 */
import type { CompiledRule } from '../../rules/compiled.js';
import { fmt } from '../../shared/number-text.js';
import type { ChartEvent, ChartLine, ChartMark, ChartSeries, ChartShade } from './svg-chart.js';
import { dateTimeLabel } from './ticks.js';

export interface RulePoint { at: number; value: number | null; transition?: string }
export interface RuleDecisionMark { at: number; customerId: string; outcome: 'offered' | 'suppressed'; reason?: string }

export const PALETTE = ['#2563eb', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];
const FIRE = '#dc2626';
const CLEAR = '#16a34a';

export interface RuleLayers { series: ChartSeries; lines: ChartLine[]; marks: ChartMark[]; shades: ChartShade[]; events: ChartEvent[] }

/** Every transition and at most `max` other points, evenly spread (a chart needs no more points than pixels). */
export function thin(points: readonly RulePoint[], max: number): RulePoint[] {
  if (points.length <= max) return [...points];
  const step = points.length / max;
  return points.filter((p, i) => p.transition !== undefined || Math.floor(i / step) !== Math.floor((i - 1) / step));
}

/** Episodes from fire to clear (an episode still firing at the end: to `end`). */
export function episodesOf(points: readonly RulePoint[], end: number): { from: number; to: number; open: boolean }[] {
  const out: { from: number; to: number; open: boolean }[] = [];
  let firedAt: number | undefined;
  for (const p of points) {
    if (p.transition === 'fire') firedAt = p.at;
    else if (p.transition === 'clear' && firedAt !== undefined) { out.push({ from: firedAt, to: p.at, open: false }); firedAt = undefined; }
  }
  if (firedAt !== undefined) out.push({ from: firedAt, to: end, open: true });
  return out;
}

/** `label` names the rule on the chart (its id when several rules share it; else its aggregate). */
export function ruleLayers(rule: CompiledRule, points: readonly RulePoint[], decisions: readonly RuleDecisionMark[], o: { color: string; label: string; zone: string; end: number }): RuleLayers {
  const lines: ChartLine[] = [{ value: rule.threshold, label: `${o.label}: fires ${rule.direction} ${fmt(rule.threshold)}`, color: FIRE, kind: 'fire' }];
  if (rule.clear !== rule.threshold) lines.push({ value: rule.clear, label: `${o.label}: clears at ${fmt(rule.clear)}`, color: CLEAR, kind: 'clear' });
  const marks: ChartMark[] = points.filter((p) => p.transition === 'fire' || p.transition === 'clear').map((p) => ({
    at: p.at, kind: p.transition as 'fire' | 'clear', color: p.transition === 'fire' ? FIRE : CLEAR,
    title: `${rule.id} ${p.transition === 'fire' ? 'fired' : 'cleared'} at ${dateTimeLabel(p.at, o.zone)} (${o.zone}), value ${fmt(p.value)}`,
  }));
  const events: ChartEvent[] = decisions.map((d) => ({
    at: d.at, kind: d.outcome === 'offered' ? 'offer' : 'suppressed',
    title: `${d.outcome === 'offered' ? 'offer to' : `suppressed (${d.reason ?? 'unknown'}):`} ${d.customerId}, ${rule.id}, ${dateTimeLabel(d.at, o.zone)}`,
  }));
  return {
    series: { label: `${rule.aggregate} of ${rule.cpi.id} (${o.label})`, color: o.color, points },
    lines, marks, events,
    shades: episodesOf(points, o.end).map((e) => ({ from: e.from, to: e.to, color: FIRE })),
  };
}
