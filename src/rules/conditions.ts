/**
 * The value of each condition of a rule at one close, and whether it breaches or is cleared: the
 * aggregate of its CPI's window, or (with `compare`) that aggregate against its own recorded value
 * a period earlier or against a rolling baseline of recorded values, as a ratio or a difference.
 *
 * Too few samples (minSamples), no recorded value then, a recorded value with too few samples
 * (compare.minSamples) or a ratio against 0: no value, so no breach (and a firing rule clears).
 * Pure: the window and the history are the close's.
 */
import { aggregateOf, roundValue, samplesOf, type AggregateName } from '../windows/aggregate.js';
import type { HistoryPoint } from '../windows/value-history.js';
import type { WindowSnapshot } from '../windows/window-spec.js';
import type { CompiledCompare, CompiledCondition } from './compiled.js';

/** What a close gives the conditions: each CPI's window at `at` and the recorded values. */
export interface RuleInputs {
  at: number;
  snapshot(cpi: string): WindowSnapshot;
  history(cpi: string, aggregate: AggregateName): HistoryReader | undefined;
}

export interface HistoryReader {
  point(at: number): HistoryPoint | undefined;
  /** Each value recorded at a close in [from, until), in time order. */
  each(from: number, until: number, f: (at: number, value: number, samples: number) => void): void;
}

/** Why a condition has no value (explain's words). */
export type NoValue = 'too-few-samples' | 'no-earlier-value' | 'earlier-too-few-samples' | 'earlier-zero';

export interface ConditionResult {
  cpi: string;
  aggregate: AggregateName;
  /** The value the threshold applies to: the aggregate, or its ratio / difference to the earlier one. */
  value: number | null;
  /** The aggregate now (null: too few samples). */
  current: number | null;
  samples: number;
  /** With compare: the earlier value or baseline compared with (null: none). */
  earlier?: number | null;
  noValue?: NoValue;
  breaching: boolean;
  cleared: boolean;
}

/** The series a trend reads: one per (CPI, aggregate) and scope. */
export function seriesKey(cpi: string, aggregate: AggregateName): string {
  return `${cpi}:${aggregate}`;
}

/** How far back a condition reads recorded values (0: it does not). */
export function lookbackOf(c: CompiledCondition): number {
  const to = c.compare?.to;
  return to === undefined ? 0 : to.kind === 'offset' ? to.offsetMs : to.periodMs;
}

export function conditionResult(c: CompiledCondition, inputs: RuleInputs): ConditionResult {
  const snapshot = inputs.snapshot(c.cpi.id);
  const samples = samplesOf(snapshot, c.aggregate);
  const current = samples >= c.minSamples ? aggregateOf(snapshot, c.aggregate) : null;
  const base = { cpi: c.cpi.id, aggregate: c.aggregate, current, samples };
  let value = current;
  let extra: Pick<ConditionResult, 'earlier' | 'noValue'> = current === null ? { noValue: 'too-few-samples' } : {};
  if (c.compare) {
    const earlier = earlierValue(c.compare, inputs.history(c.cpi.id, c.aggregate), inputs.at);
    extra = { earlier: typeof earlier === 'number' ? earlier : null, ...(current === null ? { noValue: 'too-few-samples' as const } : typeof earlier === 'string' ? { noValue: earlier } : {}) };
    value = current === null || typeof earlier !== 'number' ? null : compared(c.compare, current, earlier);
    if (value === null && extra.noValue === undefined) extra.noValue = 'earlier-zero';
  }
  return { ...base, value, ...extra, breaching: isBreaching(c, value), cleared: isCleared(c, value) };
}

function compared(compare: CompiledCompare, current: number, earlier: number): number | null {
  if (compare.as === 'difference') return roundValue(current - earlier);
  return earlier === 0 ? null : roundValue(current / earlier);
}

/** The recorded value (or baseline) a compare reads at close `at`, or why there is none. */
function earlierValue(compare: CompiledCompare, history: HistoryReader | undefined, at: number): number | NoValue {
  const to = compare.to;
  if (to.kind === 'offset') {
    const p = history?.point(at - to.offsetMs);
    if (!p) return 'no-earlier-value';
    return p.samples >= compare.minSamples ? p.value : 'earlier-too-few-samples';
  }
  const values: number[] = [];
  let recorded = 0;
  history?.each(at - to.periodMs, at, (_, value, samples) => {
    recorded += 1;
    if (samples >= compare.minSamples) values.push(value);
  });
  if (values.length === 0) return recorded === 0 ? 'no-earlier-value' : 'earlier-too-few-samples';
  if (to.of === 'avg') return roundValue(values.reduce((a, b) => a + b, 0) / values.length);
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : roundValue((values[mid - 1]! + values[mid]!) / 2);
}

export function isBreaching(c: Pick<CompiledCondition, 'direction' | 'threshold'>, value: number | null): boolean {
  if (value === null) return false;
  return c.direction === 'above' ? value > c.threshold : value < c.threshold;
}

function isCleared(c: CompiledCondition, value: number | null): boolean {
  if (value === null) return true;
  return c.direction === 'above' ? value <= c.clear : value >= c.clear;
}

/** Inputs of a rule on one CPI's window alone (no history): the v1 form, tests. */
export function snapshotInputs(snapshot: WindowSnapshot): RuleInputs {
  return { at: snapshot.at, snapshot: () => snapshot, history: () => undefined };
}
