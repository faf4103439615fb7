/**
 * The state-store interface: everything the pipeline keeps between events. Two implementations,
 * store/redis (production) and store/memory (backtests, rule tests), pass one contract suite
 * (tests/contract/state-store.contract.ts), so a backtest cannot drift from production.
 *
 * State is grouped by *entity tag* ("storeId=S1", "customerId=C7"): every key of one tag lives in
 * one Redis Cluster slot, so all updates of a tag are one atomic script call.
 */

import type * as Ops from '../cpis/ops.js';
import type { FactValue } from '../entities/facts.js';
import type { RuleState } from '../rules/rule-state.js';
import type { WindowSnapshot as EvaluatedWindow } from '../windows/window-spec.js';

export type { FactValue, RuleState };

/** Window parameters of a CPI, needed to apply ops and to read its window. */
export interface CpiWindowSpec {
  cpi: string;
  resolutionMs: number;
  /** Number of buckets in the window (window / resolution). */
  buckets: number;
  latenessMs: number;
  /** How long a bucket is kept: window + lateness + one resolution. */
  ttlMs: number;
}

/**
 * The ops of cpis/ops.ts with their source offset: an op whose offset is not above the tag's applied
 * offset for the source is a duplicate (this store's idempotency; the owner partitions of the
 * stream-time core dedupe per partition instead).
 */
type WithOffset<T> = T & { offset: number };
export type SampleOp = WithOffset<Ops.SampleOp>;
export type CountOp = WithOffset<Ops.CountOp>;
export type StartOp = WithOffset<Ops.StartOp>;
export type EndOp = WithOffset<Ops.EndOp>;
export type FactOp = WithOffset<Ops.FactOp>;
export type EnRouteOp = WithOffset<Ops.EnRouteOp>;
export type ContributorOp = WithOffset<Ops.ContributorOp>;
export type StateOp = SampleOp | CountOp | StartOp | EndOp | FactOp | EnRouteOp | ContributorOp;

/**
 * What happened to an op: applied; duplicate (already applied from this source);
 * late (older than watermark - lateness, or its bucket has left the window); unmatched (an end whose
 * start is unknown or expired; or a start whose key is already pending).
 */
export type OpStatus = 'applied' | 'duplicate' | 'late' | 'unmatched';

/** A CPI's window as merged buckets, with the entity's own watermark when it was read. */
export interface WindowSnapshot extends EvaluatedWindow {
  /** Newest event time applied for this CPI in this tag when the snapshot was taken. */
  watermark: number;
}


export interface TagBatch {
  tag: string;
  /** Source of the offsets, e.g. "events:3" (topic:partition). */
  source: string;
  ops: StateOp[];
  /** Window specs of every CPI the ops touch, and of CPIs to read back even if untouched. */
  cpis: CpiWindowSpec[];
  /** Also read every listed CPI's current window after the updates (explain, metrics, tests). */
  readCurrent?: boolean;
}

export interface TagResult {
  tag: string;
  statuses: OpStatus[];
  /** Value of each duration sample resolved by an op (start or end), by op index. */
  samples: Record<number, number>;
  /**
   * Bucket closes, in event order: each time an op moves a CPI's watermark into a later bucket, the
   * window as it stood just before (evaluated at the end of the closed bucket). Rules evaluate these.
   * Closes of earlier calls whose rule states were never saved (the process died) come first.
   */
  closes: WindowSnapshot[];
  /** Current windows after the updates, when readCurrent was set. */
  snapshots: WindowSnapshot[];
  /**
   * The entity's rule states. A call whose ops (one or more) are all facts, without readCurrent, returns none and
   * no closes: it cannot close a bucket or add a customer to an audience, and the journalled closes
   * of an earlier call wait for the entity's next call with window ops.
   */
  ruleStates: Record<string, RuleState>;
}

export interface AudienceQuery {
  tag: string;
  kind: 'enroute' | 'contrib';
  cpi?: string;
  /** Inclusive event-time bounds. */
  since: number;
  until: number;
}

export interface AudienceMember { customer: string; time: number; etaMs?: number }

/** A decision to take under the stateful guardrails, atomically with the offer ledger. */
export interface OfferCandidate {
  offerId: string;
  ruleId: string;
  customer: string;
  scopeTag: string;
  time: number;
  /** Set when a stateless guardrail (kill switch, holdout, quiet hours) already suppressed it. */
  presuppressed?: SuppressionReason;
  ruleCooldownMs?: number;
  budget?: { max: number; perMs: number };
  customerCooldownMs?: number;
  frequencyCap?: { max: number; perMs: number };
  /** How long the ledger keeps the decision (at least the longest guardrail period). */
  retainMs: number;
  /**
   * The source partition deciding it ("topic:partition"). The first to decide an offer publishes it
   * (its publish journal covers a crash); another source meeting the same offer id gets the verdict
   * as a replay marked published, so no offer id goes out twice.
   */
  source?: string;
}

export type SuppressionReason =
  | 'kill-switch'
  | 'holdout'
  | 'quiet-hours'
  | 'cooldown'
  | 'customer-cooldown'
  | 'frequency-cap'
  | 'budget';

export interface LedgerVerdict {
  offerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: SuppressionReason;
  /** True when the ledger already held this decision (a replay): the stored verdict is returned. */
  replay: boolean;
  /** True once the decision was published (markPublished). */
  published: boolean;
}

export interface StateStore {
  /** Applies every tag's ops (idempotently per source offset) and reads back windows and rule states. */
  applyOps(batches: TagBatch[]): Promise<TagResult[]>;
  /**
   * Replaces rule states (null deletes) and acknowledges the closes applyOps returned for these tags:
   * until then applyOps keeps returning them (first), so a crash between the two loses no close.
   */
  saveRuleStates(updates: { tag: string; states: Record<string, RuleState | null> }[]): Promise<void>;
  readAudience(queries: AudienceQuery[]): Promise<AudienceMember[][]>;
  readFacts(tags: string[]): Promise<(Record<string, FactValue> | null)[]>;
  /** Takes each candidate through the ledger and the stateful guardrails, in order, atomically. */
  decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]>;
  markPublished(offerIds: string[]): Promise<void>;
  /** Reads the ledger (explain, tests). */
  readLedger(offerIds: string[]): Promise<(LedgerVerdict | null)[]>;
  close(): Promise<void>;
}
