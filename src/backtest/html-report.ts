/**
 * A self-contained HTML report of a backtest (inline CSS and SVG, no scripts, no external assets):
 * a table of every rule's totals, then per CPI one chart per scope with every rule on that CPI
 * (report/cpi-sections.ts: the shared chart builder, the x axis in the scope's zone), its episodes
 * and who got what or was suppressed and why (report/scope-tables.ts). Data: what the engine
 * reported (BatchResult.evaluations and .published, collected by SeriesCollector).
 */
import { escapeHtml as esc } from '../actions/email/escape.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import type { FactValue } from '../store/state-store.js';
import { dateTimeLabel } from '../ops/chart/ticks.js';
import { cpiSection } from './report/cpi-sections.js';
import type { SeriesCollector } from './report/report-collector.js';
import type { BacktestSummary } from './summary.js';

export { SeriesCollector, type SeriesPoint } from './report/report-collector.js';

export interface ReportOptions {
  title?: string;
  /** An entity's facts as the replay left them (a store's timeZone). */
  factsOf?: (tag: string) => Record<string, FactValue> | null;
  /** How the reader reruns explain for one customer, e.g. `cpiwatch explain --rules rules --events x.ndjson`. */
  explainCommand?: string;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:940px;color:#1d2430;padding:0 12px}
h1{font-size:22px}h2{font-size:18px;margin:28px 0 4px;border-top:1px solid #dde2ea;padding-top:16px}
.what,.unit{color:#4a5566}.none{color:#6b7686;font-style:italic}ul.rules{margin:4px 0 8px;padding-left:18px}
figure{margin:14px 0 22px}figcaption{font-weight:600}figcaption span{font-weight:400;color:#6b7686;font-size:12px;margin-left:8px}
svg{max-width:100%;height:auto}table{border-collapse:collapse;margin:6px 0;font-size:13px}
td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top;border-bottom:1px solid #f0f2f5}th{color:#4a5566}
.local{color:#6b7686}.reason{color:#92400e}tr.suppressed td{background:#fafafa}code{font-size:12px}
@media print{figure{break-inside:avoid}}`;

export function renderHtmlReport(ruleSet: RuleSet, summary: BacktestSummary, collector: SeriesCollector, titleOrOptions: string | ReportOptions = {}): string {
  const o: ReportOptions = typeof titleOrOptions === 'string' ? { title: titleOrOptions } : titleOrOptions;
  const title = o.title ?? 'cpiwatch backtest';
  const factsOf = o.factsOf ?? (() => null);
  const zoneOf = (tag: string) => {
    const z = factsOf(tag)?.timeZone;
    return typeof z === 'string' && z ? z : ruleSet.policy.defaultTimeZone;
  };
  const explain = o.explainCommand ?? 'cpiwatch explain --rules <dir> --events <file>';
  const byCpi = new Map<string, CompiledRule[]>();
  for (const r of ruleSet.rules) byCpi.set(r.cpi.id, [...(byCpi.get(r.cpi.id) ?? []), r]);
  const sections = [...byCpi].map(([cpi, rules]) => cpiSection(cpi, rules, collector, {
    ruleSet, allOffers: collector.allOffers, scopeFacts: factsOf, zoneOf, explainHint: (c) => `${explain} --customer ${c}`,
  }));
  const rows = summary.rules.map((r) => {
    const suppressed = Object.entries(r.suppressed).map(([k, n]) => `${esc(k)} ${n}`).join(', ') || '-';
    return `<tr><td>${esc(r.ruleId)}</td><td>${esc(r.cpi)}</td><td>${r.fired}</td><td>${r.offers}</td><td>${r.customers}</td><td>${suppressed}</td></tr>`;
  });
  const t = summary.totals;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${CSS}</style></head><body>
<h1>${esc(title)}</h1>
<p>${t.consumed} events replayed (${t.applied} applied, ${t.late} late, ${t.duplicate} duplicate, ${t.unmatched} unmatched, ${t.deadLettered} dead-lettered)${summary.from !== null ? `, evaluations from ${esc(dateTimeLabel(summary.from, 'UTC'))} to ${esc(dateTimeLabel(summary.to!, 'UTC'))} UTC` : ''}.</p>
<table class="totals"><tr><th>rule</th><th>CPI</th><th>fired</th><th>offers</th><th>customers</th><th>suppressed</th></tr>${rows.join('')}</table>
<p class="what">How to read a chart: one per CPI and scope, its x axis in the scope's time zone. Lines: the CPI's value at each bucket close that changed it, holding until the next (one per aggregate).
Red dashes: a rule's fire threshold; green dots: where a firing rule clears. Red ▲ with a time: a rule fired (shaded while it kept firing); green ▼: it cleared.
Under the plot: ▲ green, an offer; ✕ grey, a suppression. The tables under each chart list the episodes and every decision with its reason, in UTC and in the scope's zone.</p>
${sections.join('\n')}
</body></html>
`;
}
