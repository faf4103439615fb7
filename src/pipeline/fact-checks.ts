/**
 * CPIs counted only for some customers (`customers:` on a CPI, e.g. the curbside wait of gold
 * customers): an event-time join of the scope's observations with the customer's facts, which live
 * at another owner partition. Like a temporal join on watermarks:
 *
 *   - the scope's owner holds each such observation (judged late or not on arrival, as any other);
 *   - once every partition's stream time is past its time plus the CPI's allowed lateness, the
 *     customer's facts as of that time are final: they are read (from the owner's own entities, or
 *     the customer's owner's persisted state) and the observation counts if they match;
 *   - a close of the scope's CPI waits while an observation before its boundary is held, and the
 *     partition publishes as settled only the time before its earliest held observation, so the
 *     decisions of other partitions wait for the candidates the close may still make.
 *
 * So `run`, where the facts are across partitions, and a backtest, where they are in one, count the
 * same events. A profile change counts from its own time on when it arrives within the CPI's allowed
 * lateness of the events it applies to; one arriving later may or may not be seen by them. Pure but
 * for `settleFactChecks`, which reads the facts through a port.
 */
import type { ContributorOp, OpStatus, WindowOp } from '../cpis/ops.js';
import { predicateHolds } from '../cpis/predicate.js';
import { customerTag } from '../cpis/tags.js';
import type { AwaitingFacts, EntityState } from '../entities/entity-state.js';
import type { FactValue } from '../entities/facts.js';
import type { Predicate } from '../rules/compiled.js';
import type { CloseGroup } from '../rules/close-groups.js';
import { isLate } from '../windows/cpi-window.js';
import type { CpiWindowSpec } from '../windows/window-spec.js';
import type { FactsPort } from './decide-candidates.js';

/** A held observation whose customer's facts are final now: where it waits, and whose facts it needs. */
export interface FactCheck { tag: string; customerTag: string; item: AwaitingFacts }

/** A CPI's `customers`, looked up by the CPI's id and by the names of its contributor audiences. */
export interface CustomerFilter { cpi: string; predicate: Predicate; latenessMs: number }

/**
 * Holds an observation (or a contributor record) for its customer's facts; a sample or count already
 * late is late now (a duration's half is judged when its pair completes, as it is without `customers`).
 */
export function holdForFacts(e: EntityState, op: WindowOp | ContributorOp, filter: CustomerFilter, judged: number | null, spec: CpiWindowSpec | undefined, key: string | undefined): OpStatus {
  if (op.kind === 'sample' || op.kind === 'count') {
    if (!spec) return 'unmatched';
    if (isLate(op.time, judged, spec)) return 'late';
  }
  if (e.isAwaiting({ op, ...(key !== undefined ? { key } : {}) })) return 'duplicate';
  e.await({ op, cpi: filter.cpi, until: op.time + filter.latenessMs, judged, ...(key !== undefined ? { key } : {}) });
  return 'applied';
}

/** Whether the close of `g` at boundary `at` must wait: an observation of its CPIs before `at` is held. */
export function closeWaits(e: EntityState, g: CloseGroup, at: number): boolean {
  for (const a of e.awaiting) if (a.op.time < at && g.cpis.includes(a.cpi)) return true;
  return false;
}

/** The earliest time held in the entity (Infinity: none). */
export function earliestAwaiting(e: EntityState): number {
  let t = Number.POSITIVE_INFINITY;
  for (const a of e.awaiting) if (a.op.time < t) t = a.op.time;
  return t;
}

/** Takes the entity's held observations whose facts are final before `before` (every partition's stream time). */
export function takeFinal(e: EntityState, before: number): FactCheck[] {
  const ready: FactCheck[] = [];
  for (const item of e.awaiting) if (item.until <= before) ready.push({ tag: e.tag, customerTag: customerTag(item.op.cust ?? ''), item });
  if (ready.length > 0) e.release(ready.map((c) => c.item));
  return ready;
}

/** Whether a held observation counts: its CPI's `customers` hold on the facts (a CPI that lost them counts all). */
export function counts(item: AwaitingFacts, filters: ReadonlyMap<string, CustomerFilter>, facts: Record<string, FactValue> | null): boolean {
  const filter = filters.get(item.op.cpi);
  return filter === undefined || predicateHolds(facts ?? {}, filter.predicate);
}

/** Held observations of one entity in event-time order; a start before an end at the same time. */
export function inTimeOrder(a: FactCheck, b: FactCheck): number {
  if (a.tag !== b.tag) return a.tag < b.tag ? -1 : 1;
  const rank = (c: FactCheck) => (c.item.op.kind === 'start' ? 0 : c.item.op.kind === 'contrib' ? 2 : 1);
  return a.item.op.time - b.item.op.time || rank(a) - rank(b) || a.item.n - b.item.n;
}

/** What settles the held observations of a partition: the partition task (pipeline/partition-task.ts). */
export interface FactCheckTask<R, O> {
  takeFactChecks(rules: R, before: number): FactCheck[];
  applyFactChecks(rules: R, checks: readonly FactCheck[], facts: readonly (Record<string, FactValue> | null)[]): O;
}

/** Reads the facts of the observations final before `before` and applies them; null when none was. */
export async function settleFactChecks<R, O>(task: FactCheckTask<R, O>, rules: R, before: number, facts: FactsPort): Promise<O | null> {
  const checks = task.takeFactChecks(rules, before);
  if (checks.length === 0) return null;
  const answers = await facts.factsAt(checks.map((c) => ({ tag: c.customerTag, time: c.item.op.time })));
  return task.applyFactChecks(rules, checks, answers);
}
