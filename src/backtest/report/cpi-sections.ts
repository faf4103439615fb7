/**
 * One section per CPI of the backtest report, with one chart per scope carrying every rule on that
 * CPI (each distinct aggregate as a line, each rule's fire and clear lines, fires and clears printed,
 * offers and suppressions on the timeline row), the x axis in the scope's zone, and the scope's
 * episode and decision tables.
 */
import type { Decision } from '../../actions/decision.js';
import { escapeHtml as esc } from '../../actions/email/escape.js';
import type { CompiledRule } from '../../rules/compiled.js';
import { fmt, scopeText } from '../../rule-tests/format.js';
import { PALETTE, ruleLayers, thin, type RulePoint } from '../../ops/chart/rule-layers.js';
import { renderChart } from '../../ops/chart/svg-chart.js';
import { dateTimeLabel } from '../../ops/chart/ticks.js';
import type { SeriesCollector } from './report-collector.js';
import { decisionsTable, episodesTable, type TableContext } from './scope-tables.js';

export const MAX_SCOPES = 12;
/** Points drawn per rule and scope (every transition is kept beyond them). */
const MAX_POINTS = 1500;

export interface SectionContext extends Omit<TableContext, 'zone'> {
  zoneOf: (scopeTag: string) => string;
  explainHint: (customerId: string) => string;
}

export function cpiSection(cpi: string, rules: readonly CompiledRule[], collector: SeriesCollector, ctx: SectionContext): string {
  const scopes = new Map<string, { fires: number; byRule: Map<string, RulePoint[]> }>();
  for (const rule of rules) {
    for (const [tag, pts] of collector.series.get(rule.id) ?? []) {
      let s = scopes.get(tag);
      if (!s) scopes.set(tag, (s = { fires: 0, byRule: new Map() }));
      s.byRule.set(rule.id, [...pts].sort((a, b) => a.at - b.at));
      s.fires += pts.filter((p) => p.transition === 'fire').length;
    }
  }
  const ids = new Set(rules.map((r) => r.id));
  const decisionsOf = new Map<string, Decision[]>();
  for (const d of collector.decisions) {
    if (!ids.has(d.rule.id)) continue;
    const list = decisionsOf.get(d.scopeTag) ?? [];
    list.push(d);
    decisionsOf.set(d.scopeTag, list);
  }
  const ordered = [...scopes.entries()].sort((a, b) => b[1].fires - a[1].fires || (decisionsOf.get(b[0])?.length ?? 0) - (decisionsOf.get(a[0])?.length ?? 0) || (a[0] < b[0] ? -1 : 1));
  const shown = ordered.slice(0, MAX_SCOPES);
  const head = rules[0]!;
  const ruleList = rules.map((r) => `<li><b>${esc(r.id)}</b>: ${esc(r.aggregate)} per ${esc(r.cpi.groupBy)}, fires ${r.direction} ${esc(fmt(r.threshold))}, clears at ${esc(fmt(r.clear))}${r.description ? ` <span class="what">${esc(r.description)}</span>` : ''}</li>`).join('');
  const figures = shown.map(([tag, s]) => {
    const zone = ctx.zoneOf(tag);
    const decisions = decisionsOf.get(tag) ?? [];
    const all = [...s.byRule.values()].flat();
    const end = Math.max(...all.map((p) => p.at), ...decisions.map((d) => d.time));
    const aggregates = new Map<string, number>();
    const layers = rules.filter((r) => s.byRule.has(r.id)).map((rule) => {
      const first = !aggregates.has(rule.aggregate);
      if (first) aggregates.set(rule.aggregate, aggregates.size);
      const label = rules.length > 1 ? rule.id : rule.aggregate;
      const l = ruleLayers(rule, thin(s.byRule.get(rule.id)!, MAX_POINTS), decisions.filter((d) => d.rule.id === rule.id).map((d) => ({ at: d.time, customerId: d.customerId, outcome: d.outcome, ...(d.reason ? { reason: d.reason } : {}) })), { color: PALETTE[aggregates.get(rule.aggregate)! % PALETTE.length]!, label, zone, end });
      return { l, first };
    });
    const svg = renderChart({
      label: `${cpi} in ${scopeText(tag)}`, timeZone: zone,
      series: layers.filter((x) => x.first).map((x) => x.l.series),
      lines: layers.flatMap((x) => x.l.lines), marks: layers.flatMap((x) => x.l.marks),
      shades: layers.flatMap((x) => x.l.shades), events: layers.flatMap((x) => x.l.events),
    });
    const t0 = Math.min(...all.map((p) => p.at));
    return `<figure class="scope" data-scope="${esc(scopeText(tag))}"><figcaption>${esc(scopeText(tag))} <span>${all.length} evaluations, ${esc(dateTimeLabel(t0, 'UTC'))} to ${esc(dateTimeLabel(end, 'UTC'))} UTC; local zone ${esc(zone)}</span></figcaption>
${svg}
${episodesTable(rules.filter((r) => s.byRule.has(r.id)).map((rule) => ({ rule, points: s.byRule.get(rule.id)! })), zone, end)}
${decisionsTable(decisions, { ...ctx, zone }, ctx.explainHint(decisions[0]?.customerId ?? '<customer id>'))}
</figure>`;
  });
  return `<section class="cpi" data-cpi="${esc(cpi)}">
<h2>${esc(cpi)}${head.cpi.unit ? ` <span class="unit">(${esc(head.cpi.unit)})</span>` : ''}</h2>
<ul class="rules">${ruleList}</ul>
${shown.length === 0 ? '<p class="none">No evaluation: no bucket of this CPI closed in the replayed events.</p>' : figures.join('\n')}
${ordered.length > shown.length ? `<p class="none">${ordered.length - shown.length} more scopes not shown (those with the fewest fires and decisions).</p>` : ''}
</section>`;
}
