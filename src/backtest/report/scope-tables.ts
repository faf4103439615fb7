/**
 * The tables under each scope's chart in the backtest report: the episodes (fired, cleared) of every
 * rule on the CPI, and who got what: each offer and each suppression with its reason spelled out by
 * explain's guardrail lines, with times in UTC and in the scope's zone.
 */
import type { Decision } from '../../actions/decision.js';
import { escapeHtml as esc } from '../../actions/email/escape.js';
import { guardrailLines } from '../guardrail-lines.js';
import type { CompiledRule, RuleSet } from '../../rules/compiled.js';
import { fmt } from '../../rule-tests/format.js';
import type { FactValue } from '../../store/state-store.js';
import { episodesOf, type RulePoint } from '../../ops/chart/rule-layers.js';
import { dateTimeLabel } from '../../ops/chart/ticks.js';

/** Decision rows shown per scope (the rest are counted). */
export const ROWS_PER_SCOPE = 100;

export interface TableContext {
  ruleSet: RuleSet;
  zone: string;
  allOffers: Decision[];
  scopeFacts: (tag: string) => Record<string, FactValue> | null;
}

const both = (t: number, zone: string) => `${esc(dateTimeLabel(t, 'UTC'))}<br><span class="local">${esc(dateTimeLabel(t, zone))}</span>`;

export function episodesTable(rules: readonly { rule: CompiledRule; points: readonly RulePoint[] }[], zone: string, end: number): string {
  const rows: string[] = [];
  for (const { rule, points } of rules) {
    for (const e of episodesOf(points, end)) {
      const fired = points.find((p) => p.at === e.from && p.transition === 'fire');
      rows.push(`<tr class="episode-row"><td>${esc(rule.id)}</td><td>${both(e.from, zone)}</td><td>${e.open ? 'still firing at the end' : both(e.to, zone)}</td><td>${esc(fmt(fired?.value))}</td></tr>`);
    }
  }
  if (rows.length === 0) return '<p class="none">No rule fired in this scope.</p>';
  return `<table class="episodes"><tr><th>rule</th><th>fired (UTC / ${esc(zone)})</th><th>cleared</th><th>value when fired</th></tr>${rows.join('')}</table>`;
}

export function decisionsTable(decisions: readonly Decision[], ctx: TableContext, explainHint: string): string {
  if (decisions.length === 0) return '<p class="none">No offer and no suppression in this scope.</p>';
  const shown = decisions.slice(0, ROWS_PER_SCOPE);
  const rows = shown.map((d) => {
    const why = d.outcome === 'offered'
      ? `${esc(d.rule.offer.code)}: ${esc(d.rule.aggregate)} ${esc(fmt(d.value))} ${d.rule.direction} ${esc(fmt(d.rule.threshold))}`
      : guardrailLines(d, ctx, ctx).map(esc).join('<br>') || esc(d.reason ?? '');
    return `<tr class="${d.outcome}"><td>${both(d.time, ctx.zone)}</td><td>${esc(d.rule.id)}</td><td class="customer">${esc(d.customerId)}</td><td>${d.outcome === 'offered' ? 'offered' : `suppressed: <b class="reason">${esc(d.reason ?? 'unknown')}</b>`}</td><td>${why}</td></tr>`;
  });
  const offers = decisions.filter((d) => d.outcome === 'offered').length;
  return `<p>${offers} offer(s), ${decisions.length - offers} suppression(s). The whole story of one customer: <code>${esc(explainHint)}</code></p>
<table class="decisions"><tr><th>time (UTC / ${esc(ctx.zone)})</th><th>rule</th><th>customer</th><th>outcome</th><th>why</th></tr>${rows.join('')}</table>${decisions.length > shown.length ? `<p class="none">${decisions.length - shown.length} more decisions not shown.</p>` : ''}`;
}
