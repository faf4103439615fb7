/** What goes into and comes out of one batch of the pipeline. */
import type { Decision } from '../actions/decision.js';
import type { KafkaHeaders } from '../events/decode.js';
import type { EventOrigin } from '../events/cloud-event.js';
import type { ErrorCode } from '../errors/codes.js';
import type { Evaluation } from '../rules/evaluate.js';
import type { FactValue } from '../store/state-store.js';

/** A raw message from Kafka (or a line of a backtest file). */
export interface RawMessage {
  value: Buffer | null;
  headers?: KafkaHeaders;
  key?: Buffer | null;
  origin: EventOrigin;
}

export interface DeadLetter {
  message: RawMessage;
  code: ErrorCode;
  reason: string;
}

/** What happened to each consumed event; the counts always add up to the events consumed. */
export interface EventCounts {
  consumed: number;
  applied: number;
  late: number;
  duplicate: number;
  /** A duration end whose start never came (or a repeated start), and no other op applied. */
  unmatched: number;
  deadLettered: number;
}

export interface RuleEvaluationRecord extends Evaluation {
  ruleId: string;
  scopeTag: string;
  /** A threshold tier's evaluation (absent: the rule's own thresholds). */
  tier?: number;
}

export interface FilteredOut {
  ruleId: string;
  customerId: string;
  scopeTag: string;
  /** Decision time (event time). */
  time: number;
  /** Event time the breach episode began. */
  episode: number;
  /** The facts the filter was tested on (null: no customer profile seen). */
  facts: Record<string, FactValue> | null;
  /** Left out by a threshold tier: the candidate's tier and the customer's (by their facts); 0 is the rule's own thresholds. */
  tiers?: { candidate: number; customer: number };
}

/** A valid event a CPI could not use: its type lacks the CPI's groupBy, value or join field (CPW206). */
export interface CpiIssueRecord { cpi: string; field: string; eventId: string; eventType: string }

export interface CustomerCheckCounts { counted: number; leftOut: number }

export interface BatchResult {
  counts: EventCounts;
  deadLetters: DeadLetter[];
  /** Decisions published by this batch (new ones, and replays the ledger had not seen published). */
  published: Decision[];
  /** Decisions the ledger had already published (redelivery): not published again. */
  skippedReplays: number;
  evaluations: RuleEvaluationRecord[];
  /** Candidates the rule's filter on customer facts left out (no decision is recorded for them). */
  filteredOut: FilteredOut[];
  /** CPIs that could not use a valid event (missing groupBy or value field). */
  cpiIssues: CpiIssueRecord[];
  /** Per CPI with `customers`: the events checked on their customer's facts, counted or left out (pipeline/fact-checks.ts). */
  customerChecks?: Record<string, CustomerCheckCounts>;
  lateEvents: { eventId: string; time: number; origin: EventOrigin }[];
  /** W3C traceparents of the batch's valid events (for the batch span's links). */
  traceparents: string[];
  /** Where the batch's time went (ms). */
  timings: { windowUpdateMs: number; decideMs: number; publishMs: number };
}

/** Where decisions and dead letters go: Kafka in production, files or memory in backtests and tests. */
export interface ActionSink {
  /** Publishes offers and decisions; must throw if they are not durably written. */
  publish(decisions: Decision[]): Promise<void>;
  deadLetter(letters: DeadLetter[]): Promise<void>;
}
