/**
 * A self-contained HTML report of a backtest (inline CSS and SVG, no scripts, no external assets):
 * for each rule, its CPI's value in each scope at every evaluation, against the fire threshold and
 * the clear line, with the moments it fired and cleared marked, so a marketer can see when a rule
 * would have fired. Data: the evaluations the engine reported (BatchResult.evaluations).
 */
import type { RuleEvaluationRecord } from '../pipeline/types.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import { fmt, scopeText } from '../rule-tests/format.js';
import type { BacktestSummary } from './summary.js';

/** Evaluations kept for the report: compact, one per rule, scope and bucket close. */
export interface SeriesPoint { at: number; value: number | null; transition?: string }

export class SeriesCollector {
  /** rule id -> scope tag -> points */
  readonly series = new Map<string, Map<string, SeriesPoint[]>>();

  add(evaluations: readonly RuleEvaluationRecord[]): void {
    for (const e of evaluations) {
      let byScope = this.series.get(e.ruleId);
      if (!byScope) this.series.set(e.ruleId, (byScope = new Map()));
      let points = byScope.get(e.scopeTag);
      if (!points) byScope.set(e.scopeTag, (points = []));
      points.push({ at: e.at, value: e.value, ...(e.transition ? { transition: e.transition } : {}) });
    }
  }
}

const MAX_SCOPES = 12;
const MAX_POINTS = 1500;
const W = 880;
const H = 200;
const PAD = { left: 64, right: 16, top: 14, bottom: 28 };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/** Keeps every transition and at most MAX_POINTS other points, evenly spread. */
function thin(points: SeriesPoint[]): SeriesPoint[] {
  if (points.length <= MAX_POINTS) return points;
  const step = points.length / MAX_POINTS;
  return points.filter((p, i) => p.transition !== undefined || Math.floor(i / step) !== Math.floor((i - 1) / step));
}

function chart(rule: CompiledRule, scope: string, raw: SeriesPoint[]): string {
  const points = thin([...raw].sort((a, b) => a.at - b.at));
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const t0 = points[0]!.at;
  const t1 = Math.max(points[points.length - 1]!.at, t0 + 1);
  let lo = Math.min(rule.threshold, rule.clear, ...values);
  let hi = Math.max(rule.threshold, rule.clear, ...values);
  if (hi === lo) { hi += 1; lo -= 1; }
  const margin = (hi - lo) * 0.08;
  lo -= margin; hi += margin;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const paths: string[] = [];
  let current: string[] = [];
  for (const p of points) {
    if (p.value === null) { if (current.length) paths.push(current.join(' ')); current = []; continue; }
    current.push(`${current.length ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`);
  }
  if (current.length) paths.push(current.join(' '));
  const marks = points.filter((p) => p.transition === 'fire' || p.transition === 'clear').map((p) => {
    const fire = p.transition === 'fire';
    const cx = x(p.at).toFixed(1);
    const cy = y(p.value ?? rule.threshold).toFixed(1);
    return `<g class="${fire ? 'fire' : 'clear'}"><line x1="${cx}" x2="${cx}" y1="${PAD.top}" y2="${H - PAD.bottom}"/><circle cx="${cx}" cy="${cy}" r="4"/><title>${fire ? 'fired' : 'cleared'} at ${iso(p.at)}, value ${fmt(p.value)}</title></g>`;
  });
  const tick = (v: number) => String(Number(v.toPrecision(3)));
  const ticks = [lo + margin, (lo + hi) / 2, hi - margin].map((v) => `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(tick(v))}</text>`);
  // firing episodes, shaded from fire to clear (or to the end of the replay)
  const shades: string[] = [];
  let firedAt: number | undefined;
  for (const p of points) {
    if (p.transition === 'fire') firedAt = p.at;
    else if (p.transition === 'clear' && firedAt !== undefined) { shades.push(shade(firedAt, p.at)); firedAt = undefined; }
  }
  if (firedAt !== undefined) shades.push(shade(firedAt, t1));
  function shade(from: number, to: number): string {
    return `<rect class="episode" x="${x(from).toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x(to) - x(from)).toFixed(1)}" height="${H - PAD.top - PAD.bottom}"/>`;
  }
  const line = (v: number, cls: string, label: string) => `<line class="${cls}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="${cls}" x="${W - PAD.right}" y="${(y(v) - 3).toFixed(1)}" text-anchor="end">${label} ${esc(fmt(v))}</text>`;
  return `<figure><figcaption>${esc(scope)} <span>${points.length} evaluations, ${iso(t0)} to ${iso(t1)}</span></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(rule.cpi.id)} in ${esc(scope)}">
<rect class="frame" x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}"/>
${shades.join('')}${ticks.join('')}
<text x="${PAD.left}" y="${H - 8}">${iso(t0)}</text><text x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${iso(t1)}</text>
${line(rule.threshold, 'threshold', `fires ${rule.direction}`)}${rule.clear !== rule.threshold ? line(rule.clear, 'clearline', 'clears at') : ''}
${paths.map((d) => `<path class="value" d="${d}"/>`).join('')}
${marks.join('\n')}
</svg></figure>`;
}

export function renderHtmlReport(ruleSet: RuleSet, summary: BacktestSummary, collector: SeriesCollector, title = 'cpiwatch backtest'): string {
  const sections = ruleSet.rules.map((rule) => {
    const s = summary.rules.find((r) => r.ruleId === rule.id);
    const byScope = collector.series.get(rule.id) ?? new Map<string, SeriesPoint[]>();
    const fires = (pts: SeriesPoint[]) => pts.filter((p) => p.transition === 'fire').length;
    const scopes = [...byScope.entries()].sort((a, b) => fires(b[1]) - fires(a[1]) || (a[0] < b[0] ? -1 : 1));
    const shown = scopes.slice(0, MAX_SCOPES);
    const suppressed = s ? Object.entries(s.suppressed).map(([k, n]) => `${esc(k)} ${n}`).join(', ') || 'none' : 'none';
    return `<section>
<h2>${esc(rule.id)}</h2>
<p class="what">${esc(rule.description ?? '')}</p>
<p><b>${esc(rule.aggregate)}</b> of <b>${esc(rule.cpi.id)}</b>${rule.cpi.unit ? ` (${esc(rule.cpi.unit)})` : ''} per ${esc(rule.cpi.groupBy)}, fires ${rule.direction} ${esc(fmt(rule.threshold))}, clears at ${esc(fmt(rule.clear))}.</p>
<p>Fired ${s?.fired ?? 0} times &middot; ${s?.offers ?? 0} offers to ${s?.customers ?? 0} customers &middot; suppressed: ${suppressed}</p>
${shown.length === 0 ? '<p class="none">No evaluation: no bucket of this CPI closed in the replayed events.</p>' : shown.map(([scope, pts]) => chart(rule, scopeText(scope), pts)).join('\n')}
${scopes.length > shown.length ? `<p class="none">${scopes.length - shown.length} more scopes not shown (those with the fewest fires).</p>` : ''}
</section>`;
  });
  const t = summary.totals;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:920px;color:#1d2430;padding:0 12px}
h1{font-size:22px}h2{font-size:18px;margin:28px 0 4px;border-top:1px solid #dde2ea;padding-top:16px}
.what{color:#4a5566;margin:0 0 6px}.none{color:#6b7686;font-style:italic}
figure{margin:10px 0}figcaption{font-weight:600}figcaption span{font-weight:400;color:#6b7686;font-size:12px;margin-left:8px}
svg{max-width:100%;height:auto;font-size:11px;fill:#4a5566}
.frame{fill:#fafbfc;stroke:#dde2ea}.episode{fill:#dc2626;fill-opacity:.07}.value{fill:none;stroke:#2563eb;stroke-width:1.5}
line.threshold{stroke:#dc2626;stroke-dasharray:6 4}text.threshold{fill:#dc2626}
line.clearline{stroke:#16a34a;stroke-dasharray:2 4}text.clearline{fill:#16a34a}
.fire line{stroke:#dc2626;stroke-opacity:.35}.fire circle{fill:#dc2626}
.clear line{stroke:#16a34a;stroke-opacity:.35}.clear circle{fill:#16a34a}
table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${t.consumed} events replayed (${t.applied} applied, ${t.late} late, ${t.duplicate} duplicate, ${t.unmatched} unmatched, ${t.deadLettered} dead-lettered)${summary.from !== null ? `, evaluations from ${iso(summary.from)} to ${iso(summary.to!)}` : ''}.
Blue: the CPI value at each bucket close. Red dashes: the fire threshold; green dots: where a firing rule clears. Red marks: the rule fired (shaded while it kept firing); green marks: it cleared.</p>
${sections.join('\n')}
</body></html>
`;
}
