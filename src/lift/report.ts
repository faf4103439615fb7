/**
 * The lift report: per rule, the join's counts with their statistics, as text (stdout) and as the
 * JSON of `--json`. Customers appear only as counts: no id, no personal data. Pure.
 */
import type { SuppressionReason } from '../guardrails/suppression.js';
import type { Predicate } from '../rules/compiled.js';
import { formatDuration } from '../shared/duration.js';
import type { Unreadable } from './inputs.js';
import type { JoinResult, RuleJoin, TreatedArm } from './join.js';
import { compare, type Comparison, type Interval } from './statistics.js';

export interface LiftReport {
  outcome: { type: string; where?: Predicate };
  /** the treated arm: customers offered, or every customer assigned to the offer (not held out) */
  treated: TreatedArm;
  horizonMs: number;
  /** the newest event time read: decisions whose horizon ends later are open */
  observedUntil: number | null;
  /** absolute lift (0.05 = 5 points) to size the arms for, when given */
  targetLift?: number;
  decisions: { label: string; records: number; unreadable: Unreadable; duplicates: number };
  events: { label: string; records: number; outcomes: number; unreadable: Unreadable };
  rules: RuleReport[];
}

export interface RuleReport extends RuleJoin {
  comparison: Comparison;
}

export interface ReportInputs {
  outcome: LiftReport['outcome'];
  treated: TreatedArm;
  horizonMs: number;
  observedUntil: number | null;
  targetLift?: number;
  decisions: Omit<LiftReport['decisions'], 'duplicates'>;
  events: LiftReport['events'];
}

export function buildReport(joined: JoinResult, i: ReportInputs): LiftReport {
  return {
    outcome: i.outcome,
    treated: i.treated,
    horizonMs: i.horizonMs,
    observedUntil: i.observedUntil,
    ...(i.targetLift !== undefined ? { targetLift: i.targetLift } : {}),
    decisions: { ...i.decisions, duplicates: joined.duplicateDecisions },
    events: i.events,
    rules: joined.rules.map((r) => ({ ...r, comparison: compare(r.treated.converted, r.treated.customers, r.heldOut.converted, r.heldOut.customers, i.targetLift) })),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
export const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
/** A difference of rates in percentage points, signed. */
export const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
export const signedPercent = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
const range = (i: Interval, f: (x: number) => string) => `${f(i.low)} to ${f(i.high)}`;

export function outcomeText(o: LiftReport['outcome']): string {
  const where = o.where ? Object.entries(o.where).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : '';
  return where ? `${o.type} where ${where}` : o.type;
}

/** The verdict line on the difference: what a marketer reads first. */
export function verdict(c: Comparison, treated: TreatedArm = 'offered'): string {
  if (c.treated.n === 0 || c.control.n === 0) return `no comparison: ${c.treated.n === 0 ? `no ${treated} customer` : 'no held-out customer'} with a complete horizon`;
  if (!c.excludesZero) return 'the interval contains 0: no difference shown (it may be too small to see with these numbers)';
  return `the interval excludes 0: ${treated} customers converted ${c.difference > 0 ? 'more' : 'less'}`;
}

const reasons = (r: Partial<Record<SuppressionReason, number>>) => Object.entries(r).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ');

function unreadableText(what: string, u: Unreadable): string[] {
  if (u.count === 0) return [];
  const codes = Object.entries(u.byCode).map(([code, n]) => `${code} ${n}`).join(', ');
  return [`unreadable ${what}: ${u.count} (${codes})${u.count > u.first.length ? `, first ${u.first.length}:` : ':'}`, ...u.first.map((f) => `  ${f.origin}: ${f.code} ${f.reason}`)];
}

function ruleText(r: RuleReport, treated: TreatedArm): string[] {
  const c = r.comparison;
  const arm = (name: string, p: Comparison['treated']) =>
    `  ${name.padEnd(9)} ${String(p.n).padStart(6)} customers, ${String(p.successes).padStart(6)} converted: ${percent(p.rate)}${p.n > 0 ? ` (95% Wilson ${range(p.interval, percent)})` : ''}`;
  const lines = [`${r.ruleId} (${r.versions.length === 1 ? 'version' : 'versions'} ${r.versions.join(', ')}; decisions ${iso(r.first)} to ${iso(r.last)})`,
    arm(treated, c.treated), arm('held out', c.control)];
  if (c.treated.n > 0 && c.control.n > 0) {
    lines.push(`  lift      ${points(c.difference)} points (95% Newcombe ${range(c.differenceInterval, points)}); ${verdict(c, treated)}`);
    if (c.relative.estimate !== null) lines.push(`  relative  ${signedPercent(c.relative.estimate)}${c.relative.interval ? ` (95% ${range(c.relative.interval, signedPercent)})` : ''}`);
    if (Number.isFinite(c.nnt) && c.nnt > 0) lines.push(`  NNT       ${c.nnt.toFixed(1)} offers per extra conversion${c.nntInterval ? ` (95% ${range(c.nntInterval, (x) => x.toFixed(1))})` : ' (interval unbounded: the difference\'s interval contains 0)'}`);
    if (c.neededPerArm !== null && c.neededAtSplit) {
      const met = c.treated.n >= c.neededAtSplit.treated && c.control.n >= c.neededAtSplit.control;
      lines.push(`  needed    ${c.neededPerArm} per arm (equal arms) to detect ${percent(c.treated.rate)} vs ${percent(c.control.rate)} at 80% power, alpha 0.05; at this split ${c.neededAtSplit.treated} ${treated} and ${c.neededAtSplit.control} held out: ${met ? 'reached' : 'not reached'}`);
    }
  } else {
    lines.push(`  lift      ${verdict(c, treated)}`);
  }
  if (c.target) lines.push(`  target    ${c.target.perArm} per arm (equal arms) to detect the target lift, ${percent(c.control.rate)} to ${percent(c.target.rate)}`);
  const other = reasons(r.otherSuppressed);
  const open = r.treated.open + r.heldOut.open;
  lines.push(`  in neither arm: ${other ? `${other} (customers suppressed by ${treated === 'assigned' ? 'a guardrail before the holdout' : 'another guardrail'})` : `no customer suppressed by ${treated === 'assigned' ? 'a guardrail before the holdout' : 'another guardrail'}`}; ${r.repeats} repeated decision(s)${open > 0 ? `; open: ${r.treated.open} ${treated}, ${r.heldOut.open} held out (horizon ends after the last event)` : ''}`);
  return lines;
}

export function formatReport(rep: LiftReport): string {
  const lines = [
    `lift of ${outcomeText(rep.outcome)} within ${formatDuration(rep.horizonMs)} after each decision${rep.treated === 'assigned' ? ' (intention to treat: every customer not held out is treated)' : ''}, events observed until ${rep.observedUntil === null ? '(no event read)' : iso(rep.observedUntil)}`,
    `decisions: ${rep.decisions.records} records from ${rep.decisions.label} (${rep.decisions.unreadable.count} unreadable, ${rep.decisions.duplicates} duplicate); events: ${rep.events.records} from ${rep.events.label}, ${rep.events.outcomes} outcome events of decided customers, ${rep.events.unreadable.count} unreadable`,
    ...unreadableText('decision records', rep.decisions.unreadable),
    ...unreadableText('events', rep.events.unreadable),
  ];
  if (rep.rules.length === 0) lines.push('', 'no decision read: nothing to measure');
  for (const r of rep.rules) lines.push('', ...ruleText(r, rep.treated));
  return `${lines.join('\n')}\n`;
}

/** `--json`: the report as data (an unbounded NNT is null). */
export function reportJson(rep: LiftReport): string {
  return `${JSON.stringify(rep, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
