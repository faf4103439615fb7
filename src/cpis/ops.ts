/**
 * State operations: what one customer event does to the state of one entity (a store, a customer),
 * derived by cpis/derive-ops.ts and applied by the entity's owner (entities/entity-state.ts).
 * Every op carries its event time; none carries a Kafka offset (redelivery is handled per owner
 * partition, see pipeline/partition-task.ts).
 */
/** A scalar value as kept in facts. */
export type FactValue = string | number | boolean | null;

interface OpBase {
  /** Event time (ms). */
  time: number;
}

/**
 * An observation of a CPI with `customers` (a condition on customer facts): `cust` is the customer
 * whose facts, as of the op's time, decide whether it counts. The scope's owner holds it until those
 * facts are final (pipeline/fact-checks.ts).
 */
interface CustomerChecked {
  cust?: string;
}

/** A numeric sample (value CPIs). */
export interface SampleOp extends OpBase, CustomerChecked { kind: 'sample'; cpi: string; value: number }
/** A ratio observation: adds to the numerator and/or the denominator. */
export interface CountOp extends OpBase, CustomerChecked { kind: 'count'; cpi: string; num: 0 | 1; den: 0 | 1 }
/**
 * Start of a correlated duration. Starts and ends join in either order: whichever comes first waits
 * (at most maxPendingMs of event time) for the other; the sample is (end - start) / divisorMs, at the
 * end's time. divisorMs is the expected duration for CPIs relative to an expectation, else the unit.
 */
export interface StartOp extends OpBase, CustomerChecked {
  kind: 'start'; cpi: string; key: string;
  /** null: take the expected duration (seconds) from the entity's fact `divisorFact`, else fallbackDivisorMs. */
  divisorMs: number | null;
  divisorFact?: string;
  fallbackDivisorMs?: number;
  maxPendingMs: number;
}
/** End of a correlated duration (see StartOp). */
export interface EndOp extends OpBase, CustomerChecked { kind: 'end'; cpi: string; key: string; maxPendingMs: number }
/** Facts about the entity (customer profile, store profile): per field, the newest event time wins. */
export interface FactOp extends OpBase { kind: 'fact'; facts: Record<string, FactValue> }
/** A customer heading to this entity's store, kept for `keepMs`. */
export interface EnRouteOp extends OpBase { kind: 'enroute'; customer: string; etaMs: number; keepMs: number }
/**
 * A customer whose event fed a CPI of this entity (audience of `contributors` targets). `cpi` names
 * the audience index: the CPI id, or "<cpi>.<rule>" when the rule counts only some events (`where`).
 */
export interface ContributorOp extends OpBase, CustomerChecked { kind: 'contrib'; cpi: string; customer: string; keepMs: number }

export type StateOp = SampleOp | CountOp | StartOp | EndOp | FactOp | EnRouteOp | ContributorOp;

/** An op with the entity it belongs to, e.g. "storeId=S1" (cpis/tags.ts). */
export interface TaggedOp { tag: string; op: StateOp; cpi?: string }

/**
 * What happened to an op: applied; late (older than stream time - allowedLateness, or its bucket has
 * left the window); unmatched (an end whose start is unknown or expired, or a start whose key is
 * already pending); duplicate (its event was applied before).
 */
export type OpStatus = 'applied' | 'duplicate' | 'late' | 'unmatched';

/** An op that observes a CPI's window (the others are facts and audiences). */
export type WindowOp = SampleOp | CountOp | StartOp | EndOp;

export function isWindowOp(op: StateOp): op is WindowOp {
  return op.kind === 'sample' || op.kind === 'count' || op.kind === 'start' || op.kind === 'end';
}
