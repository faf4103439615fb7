/** What one step of a partition task did: its events' statuses, its evaluations and candidates. */
import type { Evaluation } from '../rules/evaluate.js';
import type { Candidate } from './candidate-queue.js';
import type { RoutedEvent } from './op-records.js';
import type { CustomerCheckCounts, EventCounts } from './types.js';

/** An evaluation of a rule in a scope; `tier` for a threshold tier's (absent: the rule's own thresholds). */
export interface EvaluationRecord extends Evaluation { ruleId: string; scopeTag: string; tier?: number }

export interface TaskOutcome {
  /** Per routed event (for this partition's ops): applied, late, duplicate, unmatched. */
  counts: Pick<EventCounts, 'applied' | 'late' | 'duplicate' | 'unmatched'>;
  lateEvents: { event: RoutedEvent; source: number }[];
  evaluations: EvaluationRecord[];
  candidates: Candidate[];
  /** Per CPI with `customers`: the held events whose customers' facts were read, counted or left out. */
  customerChecks?: Record<string, CustomerCheckCounts>;
}

/** An outcome with nothing in it. */
export function emptyOutcome(): TaskOutcome {
  return { counts: { applied: 0, late: 0, duplicate: 0, unmatched: 0 }, lateEvents: [], evaluations: [], candidates: [] };
}

/** Adds `b`'s counts, late events, evaluations and candidates to `a` (returned). */
export function mergeOutcomes(a: TaskOutcome, b: TaskOutcome): TaskOutcome {
  for (const k of Object.keys(a.counts) as (keyof TaskOutcome['counts'])[]) a.counts[k] += b.counts[k];
  a.lateEvents.push(...b.lateEvents);
  a.evaluations.push(...b.evaluations);
  a.candidates.push(...b.candidates);
  if (b.customerChecks) a.customerChecks = addChecks(a.customerChecks ?? {}, b.customerChecks);
  return a;
}

/** Adds the customer-check counts of `b` to `into` (returned). */
export function addChecks(into: Record<string, CustomerCheckCounts>, b: Record<string, CustomerCheckCounts> | undefined): Record<string, CustomerCheckCounts> {
  for (const [cpi, c] of Object.entries(b ?? {})) {
    const t = (into[cpi] ??= { counted: 0, leftOut: 0 });
    t.counted += c.counted;
    t.leftOut += c.leftOut;
  }
  return into;
}
