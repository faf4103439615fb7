/**
 * What one step of the stream-time engine did, in the shape every reader of a batch already knows
 * (BatchResult: metrics, logs, backtest summaries, explain, rule tests).
 */
import type { Decision } from '../actions/decision.js';
import type { FilteredCandidate } from './decide-candidates.js';
import { addChecks, type TaskOutcome } from './task-outcome.js';
import type { BatchResult, DeadLetter } from './types.js';

export interface StepParts {
  /** Messages the routing stage consumed (0 at an owner). */
  consumed: number;
  /** Routing stage: valid events with nothing to route (no op), applied as they are. */
  unrouted?: number;
  deadLetters: DeadLetter[];
  cpiIssues: BatchResult['cpiIssues'];
  /** The owner partition's outcome (null: the step routed only). */
  task: TaskOutcome | null;
  published: Decision[];
  skippedReplays: number;
  filteredOut: FilteredCandidate[];
  /** Topic the routed events came from (for late events' origin). */
  topic: string;
  /** W3C traceparents of the step's events (its span links them). */
  traceparents?: readonly string[];
  timings?: BatchResult['timings'];
}

export function stepResult(p: StepParts): BatchResult {
  const t = p.task;
  const late = t?.counts.late ?? 0;
  const duplicate = t?.counts.duplicate ?? 0;
  const unmatched = t?.counts.unmatched ?? 0;
  // an event with no op (no CPI reads it) is applied: there was nothing to do
  // (the routing stage counts those alone; the owners count the others, each event once)
  const applied = !t ? p.unrouted ?? 0 : p.consumed > 0 ? Math.max(0, p.consumed - p.deadLetters.length - late - duplicate - unmatched) : t.counts.applied;
  return {
    counts: { consumed: p.consumed, applied, late, duplicate, unmatched, deadLettered: p.deadLetters.length },
    deadLetters: p.deadLetters,
    published: p.published,
    skippedReplays: p.skippedReplays,
    evaluations: t?.evaluations ?? [],
    filteredOut: p.filteredOut.map(({ candidate: c, facts, customerTier }) => ({
      ruleId: c.rule.id, customerId: c.customerId, scopeTag: c.tag, time: c.time, episode: c.episode, facts,
      ...(customerTier !== undefined ? { tiers: { candidate: c.tier ?? 0, customer: customerTier } } : {}),
    })),
    cpiIssues: p.cpiIssues,
    ...(t?.customerChecks ? { customerChecks: t.customerChecks } : {}),
    lateEvents: (t?.lateEvents ?? []).map(({ event, source }) => ({ eventId: event.id, time: event.time, origin: { topic: p.topic, partition: source, offset: event.offset } })),
    traceparents: [...(p.traceparents ?? [])],
    timings: p.timings ?? { windowUpdateMs: 0, decideMs: 0, publishMs: 0 },
  };
}

/** Two results of the same partition's batches as one (a failed commit's batch reported with its retry). */
export function mergeResults(a: BatchResult, b: BatchResult): BatchResult {
  const counts = { ...a.counts };
  for (const k of Object.keys(counts) as (keyof BatchResult['counts'])[]) counts[k] += b.counts[k];
  return {
    counts,
    deadLetters: [...a.deadLetters, ...b.deadLetters],
    published: [...a.published, ...b.published],
    skippedReplays: a.skippedReplays + b.skippedReplays,
    evaluations: [...a.evaluations, ...b.evaluations],
    filteredOut: [...a.filteredOut, ...b.filteredOut],
    cpiIssues: [...a.cpiIssues, ...b.cpiIssues],
    ...(a.customerChecks || b.customerChecks ? { customerChecks: addChecks(addChecks({}, a.customerChecks), b.customerChecks) } : {}),
    lateEvents: [...a.lateEvents, ...b.lateEvents],
    traceparents: [...a.traceparents, ...b.traceparents],
    timings: { windowUpdateMs: a.timings.windowUpdateMs + b.timings.windowUpdateMs, decideMs: a.timings.decideMs + b.timings.decideMs, publishMs: a.timings.publishMs + b.timings.publishMs },
  };
}
