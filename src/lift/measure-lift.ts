/**
 * `cpiwatch lift` without its command line: reads the decisions, then the outcome events of the
 * customers decided, joins them and computes the report. The sources are the backtest ones (an
 * NDJSON file or a Kafka topic range), so the same code measures a backtest's output and a running
 * system's decisions topic.
 */
import type { EventBatches } from '../backtest/ndjson-source.js';
import type { DecodeLimits } from '../events/decode.js';
import { readDecisions, readOutcomes, type OutcomeSpec } from './inputs.js';
import { joinDecisions, type TreatedArm } from './join.js';
import { buildReport, type LiftReport } from './report.js';

export interface LiftInput {
  decisions: { label: string; source: EventBatches };
  events: { label: string; source: EventBatches };
  outcome: OutcomeSpec;
  horizonMs: number;
  /** the treated arm (default: the customers offered) */
  treated?: TreatedArm;
  /** only these rules (all when empty or absent) */
  rules?: readonly string[];
  targetLift?: number;
  limits?: DecodeLimits;
}

export async function measureLift(i: LiftInput): Promise<LiftReport> {
  const read = await readDecisions(i.decisions.source);
  const wanted = i.rules && i.rules.length > 0 ? new Set(i.rules) : undefined;
  const decisions = wanted ? read.decisions.filter((d) => wanted.has(d.ruleId)) : read.decisions;
  const customers = new Set(decisions.map((d) => d.customerId));
  const outcomes = await readOutcomes(i.events.source, i.outcome, customers, i.limits ?? { maxBytes: 1_048_576 });
  const joined = joinDecisions(decisions, outcomes.outcomes.view(), { horizonMs: i.horizonMs, observedUntil: outcomes.observedUntil, treated: i.treated ?? 'offered' });
  return buildReport(joined, {
    outcome: { type: i.outcome.type, ...(i.outcome.where ? { where: i.outcome.where } : {}) },
    treated: i.treated ?? 'offered',
    horizonMs: i.horizonMs,
    observedUntil: outcomes.observedUntil,
    ...(i.targetLift !== undefined ? { targetLift: i.targetLift } : {}),
    decisions: { label: i.decisions.label, records: read.records, unreadable: read.unreadable },
    events: { label: i.events.label, records: outcomes.records, outcomes: outcomes.matched, unreadable: outcomes.unreadable },
  });
}
