/**
 * What a backtest did, per rule: breach episodes fired, offers, suppressions by reason, distinct
 * customers reached, and the peak CPI value (the most breaching one: the highest for `above` rules,
 * the lowest for `below`). Built from BatchResults only, so it reports what the engine did.
 */
import type { Decision } from '../actions/decision.js';
import type { BatchResult, DeadLetter, EventCounts } from '../pipeline/types.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import { fmt, scopeText } from '../rule-tests/format.js';
import { thresholdLabel, valueLabel } from '../rules/condition-words.js';

export interface RuleSummary {
  ruleId: string;
  cpi: string;
  aggregate: string;
  direction: 'above' | 'below';
  threshold: number;
  /** What the peak value is ("p90", "p90 as a ratio to sameTimeYesterday", ...) and the thresholds, in words. */
  valueLabel: string;
  thresholdLabel: string;
  fired: number;
  offers: number;
  suppressed: Record<string, number>;
  customers: number;
  peak: { value: number; scope: string; at: number } | null;
  /** Offers published with the rule's own title and terms: its offer.template failed (CPW509), and the first reason. */
  textFallbacks: number;
  firstTextFallback?: string;
}

/** What happened to the events replayed: the pipeline's per-batch counts, summed. */
export type BacktestTotals = EventCounts;

export interface BacktestSummary {
  totals: BacktestTotals;
  rules: RuleSummary[];
  /** The first dead letters, for the report (all are counted in totals). */
  deadLetters: { origin: string; code: string; reason: string }[];
  /** Event-time range of the valid events. */
  from: number | null;
  to: number | null;
  elapsedMs: number;
}

export const DEAD_LETTERS_SHOWN = 5;

export class SummaryBuilder {
  private readonly totals: BacktestTotals = { consumed: 0, applied: 0, late: 0, duplicate: 0, unmatched: 0, deadLettered: 0 };
  private readonly perRule = new Map<string, { rule: CompiledRule; fired: number; offers: number; suppressed: Map<string, number>; customers: Set<string>; peak: RuleSummary['peak']; textFallbacks: number; firstTextFallback?: string }>();
  private readonly deadLetters: BacktestSummary['deadLetters'] = [];
  private from: number | null = null;
  private to: number | null = null;
  private readonly started = performance.now();

  constructor(ruleSet: RuleSet) {
    for (const rule of ruleSet.rules) this.perRule.set(rule.id, { rule, fired: 0, offers: 0, suppressed: new Map(), customers: new Set(), peak: null, textFallbacks: 0 });
  }

  addBatch(result: BatchResult): void {
    for (const k of Object.keys(this.totals) as (keyof BacktestTotals)[]) this.totals[k] += result.counts[k];
    for (const e of result.evaluations) {
      const r = this.perRule.get(e.ruleId);
      if (!r) continue;
      if (e.transition === 'fire') r.fired += 1;
      if (e.value !== null && e.breaching) {
        const better = r.peak === null || (r.rule.direction === 'above' ? e.value > r.peak.value : e.value < r.peak.value);
        if (better) r.peak = { value: e.value, scope: scopeText(e.scopeTag), at: e.at };
      }
      this.from = this.from === null ? e.at : Math.min(this.from, e.at);
      this.to = this.to === null ? e.at : Math.max(this.to, e.at);
    }
    for (const d of result.published) this.addDecision(d);
  }

  addDeadLetters(letters: readonly DeadLetter[]): void {
    for (const l of letters) {
      if (this.deadLetters.length >= DEAD_LETTERS_SHOWN) return;
      this.deadLetters.push({ origin: originText(l), code: l.code, reason: l.reason });
    }
  }

  private addDecision(d: Decision): void {
    const r = this.perRule.get(d.rule.id);
    if (!r) return;
    if (d.outcome === 'offered') {
      r.offers += 1;
      r.customers.add(d.customerId);
      if (d.texts?.fallback) {
        r.textFallbacks += 1;
        r.firstTextFallback ??= `offer ${d.offerId}: ${d.texts.fallback.reason}`;
      }
    } else {
      const reason = d.reason ?? 'unknown';
      r.suppressed.set(reason, (r.suppressed.get(reason) ?? 0) + 1);
    }
  }

  build(): BacktestSummary {
    return {
      totals: { ...this.totals },
      rules: [...this.perRule.values()].map((r) => ({
        ruleId: r.rule.id, cpi: r.rule.cpi.id, aggregate: r.rule.aggregate, direction: r.rule.direction, threshold: r.rule.threshold,
        valueLabel: valueLabel(r.rule), thresholdLabel: thresholdLabel(r.rule),
        fired: r.fired, offers: r.offers, suppressed: Object.fromEntries([...r.suppressed].sort()), customers: r.customers.size, peak: r.peak,
        textFallbacks: r.textFallbacks, ...(r.firstTextFallback !== undefined ? { firstTextFallback: r.firstTextFallback } : {}),
      })),
      deadLetters: [...this.deadLetters],
      from: this.from,
      to: this.to,
      elapsedMs: performance.now() - this.started,
    };
  }
}

function originText(l: DeadLetter): string {
  const o = l.message.origin;
  return o.topic.startsWith('file:') ? `${o.topic.slice(5)}:${o.offset + 1}` : `${o.topic}:${o.partition}@${o.offset}`;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** The summary as text for stderr: totals, one table row per rule, the first dead letters. */
export function formatSummary(s: BacktestSummary): string {
  const t = s.totals;
  const secs = s.elapsedMs / 1000;
  const rate = secs > 0 ? Math.round(t.consumed / secs) : t.consumed;
  const lines = [
    `backtest: ${plural(t.consumed, 'event')} (${t.applied} applied, ${t.late} late, ${t.duplicate} duplicate, ${t.unmatched} unmatched, ${t.deadLettered} dead-lettered) in ${secs.toFixed(2)}s, ${rate} events/s`,
  ];
  if (s.from !== null && s.to !== null) lines.push(`evaluated from ${new Date(s.from).toISOString()} to ${new Date(s.to).toISOString()}`);
  const rows = [['rule', 'fired', 'offers', 'customers', 'suppressed', 'peak CPI value (threshold)']];
  for (const r of s.rules) {
    const suppressed = Object.entries(r.suppressed).map(([k, n]) => `${k} ${n}`).join(', ') || '-';
    const peak = r.peak ? `${r.valueLabel} ${fmt(r.peak.value)} at ${r.peak.scope} ${new Date(r.peak.at).toISOString()}` : 'never breached';
    rows.push([r.ruleId, String(r.fired), String(r.offers), String(r.customers), suppressed, `${peak} (${r.thresholdLabel})`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) {
    lines.push(row.map((cell, i) => (i === row.length - 1 ? cell : i >= 1 && i <= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  '));
  }
  for (const r of s.rules.filter((x) => x.textFallbacks > 0)) {
    lines.push(`${r.ruleId}: ${plural(r.textFallbacks, 'offer')} with the rule's own title and terms, its offer template failed to render (CPW509; first, ${r.firstTextFallback})`);
  }
  if (t.deadLettered > 0) {
    lines.push(`dead letters: ${t.deadLettered}${t.deadLettered > s.deadLetters.length ? ` (first ${s.deadLetters.length})` : ''}`);
    for (const d of s.deadLetters) lines.push(`  ${d.origin}: ${d.code} ${d.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
