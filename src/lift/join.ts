/**
 * The join of `cpiwatch lift`: each rule's decisions with the customers' outcome events. Pure.
 *
 * Per rule, each customer counts once, with their first decision that puts them in an arm:
 * - **treated**: a decision with outcome `offered` (`treated: 'offered'`, the default); with
 *   `treated: 'assigned'` (intention to treat) also a suppression by a guardrail checked after the
 *   holdout (quiet hours, cooldowns, frequency cap, budget): every customer not held out;
 * - **held out** (control): suppressed with reason `holdout` (the rule's deterministic control group).
 * Their other decisions under the rule (later ones, or other suppressions before it) are counted as
repeats and change nothing.
 * A customer whose decisions were all suppressed by another guardrail (quiet hours, budget,
 * cooldowns, frequency cap, kill switch) got no offer, but is not a control either (those guardrails
 * pick customers by time and place, not at random): they are reported apart, by the reason of their
 * first decision, and in neither arm.
 *
 * A customer converted when an outcome event of theirs is later than the decision and at most
 * `horizon` after it: decision < outcome <= decision + horizon. A decision whose horizon ends after
 * the last event read (`observedUntil`) cannot be judged yet: it is counted as open, in neither rate.
 * The same offer id read twice (the offers and the decisions topic both carry an offer) counts once.
 */
import type { SuppressionReason } from '../guardrails/suppression.js';
import type { LiftDecision } from './decision-record.js';

export interface Arm {
  /** customers in the arm whose horizon is complete: the rate's denominator */
  customers: number;
  /** of them, those with an outcome within the horizon */
  converted: number;
  /** customers in the arm whose horizon ends after the last event read (in no rate) */
  open: number;
}

export interface RuleJoin {
  ruleId: string;
  /** the rule versions seen in its decisions */
  versions: string[];
  /** offered customers, or with `treated: 'assigned'` every customer not held out */
  treated: Arm;
  heldOut: Arm;
  /** customers with only other suppressions, by the reason of their first decision */
  otherSuppressed: Partial<Record<SuppressionReason, number>>;
  /** decisions of a customer other than the one that counted (later ones; other suppressions before an arm's) */
  repeats: number;
  /** time of the first and last decision */
  first: number;
  last: number;
}

export interface JoinResult {
  rules: RuleJoin[];
  /** records with an offer id seen before */
  duplicateDecisions: number;
}

export interface JoinOptions {
  horizonMs: number;
  /** the newest event time read; null when no event was read */
  observedUntil: number | null;
  /** who is treated: the customers offered (default), or every customer assigned to get the offer */
  treated?: TreatedArm;
}

export type TreatedArm = 'offered' | 'assigned';

/** Guardrails checked before the holdout: a customer they suppress was never assigned to an arm. */
const BEFORE_HOLDOUT: readonly SuppressionReason[] = ['kill-switch'];

/** Outcome times per customer, each list sorted ascending (see OutcomeIndex). */
export type OutcomeTimes = ReadonlyMap<string, readonly number[]>;

/** Collects the outcome times of customers, sorted on read. */
export class OutcomeIndex {
  private readonly times = new Map<string, number[]>();
  private sorted = true;

  add(customerId: string, time: number): void {
    const list = this.times.get(customerId);
    if (list) list.push(time); else this.times.set(customerId, [time]);
    this.sorted = false;
  }

  get size(): number { return this.times.size; }

  view(): OutcomeTimes {
    if (!this.sorted) for (const list of this.times.values()) list.sort((a, b) => a - b);
    this.sorted = true;
    return this.times;
  }
}

/** Whether a time in `sorted` lies in (after, after + horizon]. */
export function convertedWithin(sorted: readonly number[] | undefined, after: number, horizonMs: number): boolean {
  if (!sorted || sorted.length === 0) return false;
  // first index with time > after
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= after) lo = mid + 1; else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! <= after + horizonMs;
}

const emptyArm = (): Arm => ({ customers: 0, converted: 0, open: 0 });

export function joinDecisions(decisions: Iterable<LiftDecision>, outcomes: OutcomeTimes, o: JoinOptions): JoinResult {
  const seen = new Set<string>();
  let duplicateDecisions = 0;
  const byRule = new Map<string, LiftDecision[]>();
  for (const d of decisions) {
    if (seen.has(d.offerId)) { duplicateDecisions += 1; continue; }
    seen.add(d.offerId);
    const list = byRule.get(d.ruleId);
    if (list) list.push(d); else byRule.set(d.ruleId, [d]);
  }
  const rules: RuleJoin[] = [];
  for (const [ruleId, list] of [...byRule].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.time - b.time || a.offerId.localeCompare(b.offerId));
    const r: RuleJoin = { ruleId, versions: [...new Set(list.map((d) => d.ruleVersion))], treated: emptyArm(), heldOut: emptyArm(), otherSuppressed: {}, repeats: 0, first: list[0]!.time, last: list.at(-1)!.time };
    const inArm = new Set<string>();
    const firstOther = new Map<string, SuppressionReason>();
    for (const d of list) {
      if (inArm.has(d.customerId)) { r.repeats += 1; continue; }
      const assigned = o.treated === 'assigned' && d.reason !== 'holdout' && !BEFORE_HOLDOUT.includes(d.reason!);
      const arm = d.outcome === 'offered' || assigned ? r.treated : d.reason === 'holdout' ? r.heldOut : undefined;
      if (!arm) {
        if (firstOther.has(d.customerId)) r.repeats += 1; else firstOther.set(d.customerId, d.reason!);
        continue;
      }
      if (firstOther.delete(d.customerId)) r.repeats += 1;
      inArm.add(d.customerId);
      if (o.observedUntil === null || d.time + o.horizonMs > o.observedUntil) { arm.open += 1; continue; }
      arm.customers += 1;
      if (convertedWithin(outcomes.get(d.customerId), d.time, o.horizonMs)) arm.converted += 1;
    }
    for (const reason of firstOther.values()) r.otherSuppressed[reason] = (r.otherSuppressed[reason] ?? 0) + 1;
    rules.push(r);
  }
  return { rules, duplicateDecisions };
}
