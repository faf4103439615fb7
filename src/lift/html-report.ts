/**
 * `cpiwatch lift --html`: the lift report as one self-contained page (inline CSS and SVG, no
 * script, nothing fetched), for a marketer to open or print. Per rule: the verdict, each arm's rate
 * with its interval drawn as a bar with whiskers, the difference's interval against 0, and the
 * numbers of the text report. Customers only as counts. Pure.
 */
import { escapeHtml as esc } from '../actions/email/escape.js';
import { formatDuration } from '../shared/duration.js';
import { outcomeText, percent, points, signedPercent, verdict, type LiftReport, type RuleReport } from './report.js';
import type { Interval } from './statistics.js';

const W = 560;
const f1 = (x: number) => x.toFixed(1);

/** Both arms' rates as horizontal bars on 0..max, each with its Wilson interval as a whisker. */
function ratesChart(r: RuleReport, treatedLabel: string): string {
  const { treated, control } = r.comparison;
  // a round end: the next 5% above both intervals (ticks at 0, half and the end)
  const max = Math.min(1, Math.ceil(Math.max(treated.interval.high, control.interval.high) * 1.05 * 20) / 20);
  const left = 90;
  const x = (v: number) => left + (v / max) * (W - left - 20);
  const row = (label: string, p: typeof treated, y: number, color: string) => p.n === 0 ? '' : `
<text x="${left - 8}" y="${y + 15}" text-anchor="end">${label}</text>
<rect x="${left}" y="${y}" width="${f1(x(p.rate) - left)}" height="22" fill="${color}" fill-opacity="0.75"/>
<line x1="${f1(x(p.interval.low))}" x2="${f1(x(p.interval.high))}" y1="${y + 11}" y2="${y + 11}" stroke="#1f2937" stroke-width="1.5"/>
<line x1="${f1(x(p.interval.low))}" x2="${f1(x(p.interval.low))}" y1="${y + 5}" y2="${y + 17}" stroke="#1f2937"/>
<line x1="${f1(x(p.interval.high))}" x2="${f1(x(p.interval.high))}" y1="${y + 5}" y2="${y + 17}" stroke="#1f2937"/>
<text x="${f1(x(p.interval.high) + 6)}" y="${y + 15}">${percent(p.rate)}</text>`;
  const ticks = [0, max / 2, max].map((v) => `<text x="${f1(x(v))}" y="82" text-anchor="middle" fill="#4a5566">${percent(v)}</text>`).join('');
  return `<svg viewBox="0 0 ${W} 90" width="${W}" height="90" role="img" aria-label="conversion rates of ${esc(r.ruleId)}" font-size="12" font-family="system-ui,sans-serif">${row(treatedLabel, treated, 6, '#2563eb')}${row('held out', control, 36, '#9ca3af')}${ticks}</svg>`;
}

/** The difference's interval on a symmetric axis, with the 0 line: does the bar cross it? */
function differenceChart(d: number, i: Interval): string {
  const span = Math.ceil(Math.max(Math.abs(i.low), Math.abs(i.high)) * 1.05 * 20) / 20;
  const x = (v: number) => 20 + ((v + span) / (2 * span)) * (W - 40);
  const color = i.low > 0 ? '#16a34a' : i.high < 0 ? '#dc2626' : '#6b7280';
  return `<svg viewBox="0 0 ${W} 60" width="${W}" height="60" role="img" aria-label="difference and its interval" font-size="12" font-family="system-ui,sans-serif">
<line x1="${f1(x(0))}" x2="${f1(x(0))}" y1="4" y2="40" stroke="#111827" stroke-dasharray="3 3"/>
<line x1="${f1(x(i.low))}" x2="${f1(x(i.high))}" y1="22" y2="22" stroke="${color}" stroke-width="6" stroke-linecap="round"/>
<circle cx="${f1(x(d))}" cy="22" r="5" fill="#111827"/>
<text x="${f1(x(-span))}" y="55" fill="#4a5566">${points(-span)}</text><text x="${f1(x(0))}" y="55" text-anchor="middle">0</text><text x="${f1(x(span))}" y="55" text-anchor="end" fill="#4a5566">${points(span)} points</text></svg>`;
}

function unreadableList(what: string, u: LiftReport['events']['unreadable']): string {
  if (u.count === 0) return '';
  const codes = Object.entries(u.byCode).map(([code, n]) => `${esc(code)} ${n}`).join(', ');
  return `<p>Unreadable ${what}: ${u.count} (${codes}), counted and left out${u.count > u.first.length ? `; the first ${u.first.length}` : ''}:</p>
<ul class="unreadable">${u.first.map((f) => `<li><code>${esc(f.origin)}</code>: ${esc(f.code)} ${esc(f.reason)}</li>`).join('')}</ul>`;
}

function ruleSection(r: RuleReport, treated: LiftReport['treated']): string {
  const c = r.comparison;
  const both = c.treated.n > 0 && c.control.n > 0;
  const row = (name: string, p: typeof c.treated, open: number) => `<tr><th>${name}</th><td>${p.n}</td><td>${p.successes}</td><td>${percent(p.rate)}</td><td>${p.n > 0 ? `${percent(p.interval.low)} to ${percent(p.interval.high)}` : '-'}</td><td>${open}</td></tr>`;
  const facts: string[] = [];
  if (both) {
    facts.push(`<li>Lift: <b>${points(c.difference)} points</b> (95% Newcombe ${points(c.differenceInterval.low)} to ${points(c.differenceInterval.high)})</li>`);
    if (c.relative.estimate !== null) facts.push(`<li>Relative: ${signedPercent(c.relative.estimate)}${c.relative.interval ? ` (95% ${signedPercent(c.relative.interval.low)} to ${signedPercent(c.relative.interval.high)})` : ''}</li>`);
    if (Number.isFinite(c.nnt) && c.nnt > 0) facts.push(`<li>Number needed to treat: ${c.nnt.toFixed(1)} offers per extra conversion${c.nntInterval ? ` (95% ${c.nntInterval.low.toFixed(1)} to ${c.nntInterval.high.toFixed(1)})` : ''}</li>`);
    if (c.neededPerArm !== null && c.neededAtSplit) facts.push(`<li>Customers needed for 80% power at alpha 0.05: ${c.neededPerArm} per arm with equal arms; at this split ${c.neededAtSplit.treated} ${treated} and ${c.neededAtSplit.control} held out</li>`);
  }
  if (c.target) facts.push(`<li>For the target lift (${percent(c.control.rate)} to ${percent(c.target.rate)}): ${c.target.perArm} per arm</li>`);
  const other = Object.entries(r.otherSuppressed).map(([k, n]) => `${esc(k)} ${n}`).join(', ');
  facts.push(`<li>In neither arm: ${other || 'no customer suppressed by another guardrail'}; ${r.repeats} repeated decisions</li>`);
  return `<section>
<h2>${esc(r.ruleId)}</h2>
<p class="meta">versions ${r.versions.map(esc).join(', ')}; decisions ${new Date(r.first).toISOString()} to ${new Date(r.last).toISOString()}</p>
<p class="verdict ${c.excludesZero ? (c.difference > 0 ? 'up' : 'down') : 'none'}">${esc(verdict(c, treated))}</p>
<table><tr><th></th><th>customers</th><th>converted</th><th>rate</th><th>95% Wilson</th><th>open</th></tr>
${row(treated, c.treated, r.treated.open)}${row('held out', c.control, r.heldOut.open)}</table>
${both ? ratesChart(r, treated) + differenceChart(c.difference, c.differenceInterval) : ''}
<ul>${facts.join('')}</ul>
</section>`;
}

export function renderLiftHtml(rep: LiftReport, title: string): string {
  const until = rep.observedUntil === null ? 'no event read' : new Date(rep.observedUntil).toISOString();
  const unreadable = rep.decisions.unreadable.count + rep.events.unreadable.count;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:62rem;color:#111827;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .7rem;border-bottom:1px solid #e5e7eb;text-align:right}th:first-child{text-align:left}
.meta{color:#4b5563}.verdict{font-weight:600}.verdict.up{color:#15803d}.verdict.down{color:#b91c1c}.verdict.none{color:#4b5563}
svg{display:block;margin:.4rem 0}.unreadable{font-size:.9em;color:#4b5563}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Outcome <b>${esc(outcomeText(rep.outcome))}</b> within <b>${esc(formatDuration(rep.horizonMs))}</b> after each decision; events observed until ${esc(until)}.
Decisions: ${rep.decisions.records} records (${rep.decisions.duplicates} duplicate); events: ${rep.events.records} (${rep.events.outcomes} outcomes of decided customers); ${unreadable} unreadable records.</p>
<p class="meta">${rep.treated === 'assigned' ? 'Every customer not held out (intention to treat)' : 'Offered customers'} against the rule's held-out group, each customer once with their first decision. Intervals: Wilson (each rate), Newcombe hybrid score (the difference); see docs/rules.md, "Measuring lift".</p>
${unreadableList('decision records', rep.decisions.unreadable)}${unreadableList('events', rep.events.unreadable)}
${rep.rules.length === 0 ? '<p>No decision read: nothing to measure.</p>' : rep.rules.map((r) => ruleSection(r, rep.treated)).join('\n')}
</body></html>
`;
}
