/**
 * The inputs of `cpiwatch lift`, from the backtest sources (an NDJSON file or a Kafka topic range,
 * backtest/): the decisions, and the outcome events of the decided customers. Every record that
 * cannot be read is counted with its code and the first few are kept with where they were (a file's
 * line, a topic's partition and offset); none stops the read.
 */
import type { EventBatches } from '../backtest/ndjson-source.js';
import { predicateHolds } from '../cpis/predicate.js';
import { ErrorCodes } from '../errors/codes.js';
import { messageOf } from '../errors/cpiwatch-error.js';
import { decodeEvent, type DecodeLimits } from '../events/decode.js';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import type { EventTypeRegistry } from '../events/registry.js';
import type { RawMessage } from '../pipeline/types.js';
import type { Predicate } from '../rules/compiled.js';
import { decisionOf, type LiftDecision } from './decision-record.js';
import { OutcomeIndex } from './join.js';

const SHOWN = 5;

export interface Unreadable {
  count: number;
  /** by error code */
  byCode: Record<string, number>;
  /** the first few: where, code, why */
  first: { origin: string; code: string; reason: string }[];
}

export const noneUnreadable = (): Unreadable => ({ count: 0, byCode: {}, first: [] });

function addUnreadable(u: Unreadable, m: RawMessage, code: string, reason: string): void {
  u.count += 1;
  u.byCode[code] = (u.byCode[code] ?? 0) + 1;
  if (u.first.length < SHOWN) u.first.push({ origin: originOf(m), code, reason });
}

/** A file's line (1-based) or a topic's partition@offset. */
export function originOf(m: RawMessage): string {
  const o = m.origin;
  return o.topic.startsWith('file:') ? `${o.topic.slice(5)}:${o.offset + 1}` : `${o.topic}:${o.partition}@${o.offset}`;
}

export interface DecisionsRead {
  decisions: LiftDecision[];
  records: number;
  unreadable: Unreadable;
}

export async function readDecisions(input: EventBatches): Promise<DecisionsRead> {
  const out: DecisionsRead = { decisions: [], records: 0, unreadable: noneUnreadable() };
  const code = ErrorCodes.DECISION_RECORD_INVALID.code;
  for await (const batch of input.batches()) {
    for (const m of batch) {
      out.records += 1;
      const r = decisionOf(m.value);
      if ('decision' in r) out.decisions.push(r.decision);
      else addUnreadable(out.unreadable, m, code, messageOf('DECISION_RECORD_INVALID', r.problem));
    }
  }
  return out;
}

export interface OutcomeSpec {
  /** the outcome's event type, e.g. order.placed */
  type: string;
  /** conditions on the event's data, as a rule's `where` */
  where?: Predicate;
  /** the event types events are decoded with (a rules folder's declarations; default: the built-in ones) */
  eventTypes?: EventTypeRegistry;
}

export interface OutcomesRead {
  outcomes: OutcomeIndex;
  /** events read, decoded or not */
  records: number;
  /** outcome events of decided customers (the ones the join looks at) */
  matched: number;
  /** the newest event time among the decoded events; null when none decoded */
  observedUntil: number | null;
  /** events that could not be decoded (CPW2xx codes, as the processor would dead-letter them) */
  unreadable: Unreadable;
}

/** The outcome events of the `customers` (the type's customer field) that match `spec`, and the newest event time. */
export async function readOutcomes(input: EventBatches, spec: OutcomeSpec, customers: ReadonlySet<string>, limits: DecodeLimits): Promise<OutcomesRead> {
  const out: OutcomesRead = { outcomes: new OutcomeIndex(), records: 0, matched: 0, observedUntil: null, unreadable: noneUnreadable() };
  // the outcome type's customer (role: customer), customerId in the built-in types
  const customerField = (spec.eventTypes ?? BUILTIN_EVENT_TYPES).get(spec.type)?.customerField ?? 'customerId';
  for await (const batch of input.batches()) {
    for (const m of batch) {
      out.records += 1;
      const r = decodeEvent(m, limits, spec.eventTypes);
      if (!r.ok) { addUnreadable(out.unreadable, m, r.code, r.reason); continue; }
      const e = r.event;
      out.observedUntil = out.observedUntil === null ? e.time : Math.max(out.observedUntil, e.time);
      if (e.type !== spec.type) continue;
      const customerId = e.data[customerField];
      if (typeof customerId !== 'string' || !customers.has(customerId)) continue;
      if (!predicateHolds(e.data, spec.where)) continue;
      out.outcomes.add(customerId, e.time);
      out.matched += 1;
    }
  }
  return out;
}
