/**
 * One owner partition: the entities whose ops hash to it, their state in memory, and its stream
 * time. Pure and synchronous; the time is the stream's, never the wall clock's.
 *
 * For each routed event, in the order the partition received them: apply its ops (lateness against
 * the newest event time of the event's own source: entities/entity-state.ts), move the event's
 * source watermark, then fire every close timer the new stream time has passed, in (due, time,
 * entity, CPI) order. A boundary's close is due once stream time is past it by the CPI's allowed
 * lateness: every event that still counts in the step before it has arrived, from every source, so
 * the value evaluated does not depend on how the sources interleave. The window at that boundary is
 * evaluated by each rule on the CPI (rules/evaluate.ts). A fire makes candidates of its audience at
 * the fire time; a customer joining an audience while a rule fires is a candidate at its own time, as
 * soon as the rule's state at that time is known (the close of the boundary before it), else when it is.
 * So a quiet store's rules fire, hold and clear on time: its timers run on the partition's time,
 * which the other sources (or the idle marks) move.
 *
 * An observation of a CPI with `customers` waits for its customer's facts (pipeline/fact-checks.ts),
 * and the closes after it wait with it. Closes are evaluated in pipeline/evaluate-close.ts; who a
 * firing rule reaches, and the candidates' queue, are pipeline/audience-candidates.ts.
 *
 * `run` feeds it from the ops topic (pipeline/owner-stage.ts); backtests and rule tests feed it directly
 * from the routing stage (pipeline/replay.ts). Candidates go on to pipeline/decide-candidates.ts.
 */
import type { ContributorOp, OpStatus, StateOp, WindowOp } from '../cpis/ops.js';
import type { CustomerCheckCounts } from './types.js';
import { ruleIdOfKey, tierKey } from '../rules/evaluate.js';
import type { CompiledRule } from '../rules/compiled.js';
import type { CloseGroup, CloseGroups } from '../rules/close-groups.js';
import { groupOfCpi, groupOfRule, tiersOf } from './close-helpers.js';
import { mustEvaluate, scheduleAfterClose } from './close-schedule.js';
import { CloseTimers } from '../stream-time/close-timers.js';
import { StreamClock, type SourceMark } from '../stream-time/stream-clock.js';
import { bucketOf } from '../windows/cpi-window.js';
import type { CpiWindowSpec } from '../windows/window-spec.js';
import { EntityState, judgedTime } from '../entities/entity-state.js';
import type { FactValue } from '../entities/facts.js';
import { closeWaits, counts, earliestAwaiting, holdForFacts, inTimeOrder, takeFinal, type CustomerFilter, type FactCheck } from './fact-checks.js';
import type { Candidate, DecisionKey, PendingCandidate } from './candidate-queue.js';
import { AudienceCandidates, dueOf } from './audience-candidates.js';
import { emptyOutcome, type TaskOutcome } from './task-outcome.js';
import { evaluateClose } from './evaluate-close.js';
import type { DecisionGate } from './decision-frontier.js';
import type { OpRecord } from './op-records.js';

/** What the task needs of the loaded rules (pipeline/active-rules.ts). */
export interface TaskRules {
  specs: ReadonlyMap<string, CpiWindowSpec>;
  /** The CPIs closed together, and their rules (rules/close-groups.ts). */
  closeGroups: CloseGroups;
  rulesById: ReadonlyMap<string, CompiledRule>;
  /** Rules whose audience an op feeds: "enroute|<scope dimension>" or "contrib|<audience>". */
  audienceRules: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Each rule's place in the rule set: at equal times, earlier rules are decided first. */
  ruleOrder: ReadonlyMap<string, number>;
  /** How far an idle source may hold stream time behind the active ones (stream-time/stream-clock.ts). */
  idleSlackMs: number;
  /** The `customers` of each CPI that has them: its observations wait for the customer's facts (pipeline/fact-checks.ts). */
  customerFilters: ReadonlyMap<string, CustomerFilter>;
}


export type { Candidate, PendingCandidate };
export { emptyOutcome, mergeOutcomes, type EvaluationRecord, type TaskOutcome } from './task-outcome.js';

export interface PersistedMeta { marks: SourceMark[]; now: number | null; applied: number; pending?: PendingCandidate[] }

/** One bit per op status, so an event's status is found without a list per event. */
const STATUS_BIT: Record<OpStatus, number> = { applied: 1, duplicate: 2, late: 4, unmatched: 8 };

export class PartitionTask {
  readonly entities = new Map<string, EntityState>();
  readonly timers = new CloseTimers();
  readonly clock: StreamClock;
  /** Last offset of the ops topic partition applied (records at or below it are redeliveries). */
  applied = -1;
  private readonly dirty = new Set<string>();
  /** Audiences and the candidates waiting for their decision (pipeline/audience-candidates.ts). */
  private readonly candidates = new AudienceCandidates();
  /** The rule set the timers were last scheduled for (see rulesChanged). */
  private rulesSeen?: TaskRules;
  /** Counts rule-set changes: a window last evaluated under an earlier one is evaluated at its next close. */
  private rulesEpoch = 0;
  /** Entities holding observations for their customers' facts (pipeline/fact-checks.ts). */
  private readonly awaitingFacts = new Set<string>();
  /** The earliest time of the checks taken and not applied yet (their facts are being read). */
  private checking = Number.POSITIVE_INFINITY;

  constructor(readonly partition: number, readonly sources: number, meta?: PersistedMeta) {
    this.clock = new StreamClock(sources, meta?.marks);
    if (meta) {
      this.applied = meta.applied;
      if (meta.now !== null) this.clock.flush(meta.now);
    }
  }

  /**
   * Takes the candidates whose due time stream time has passed (all of them at +Infinity), in decision
   * order; with a gate, only those it lets through (the owner partitions' common frontier: see
   * pipeline/decision-frontier.ts).
   */
  takeDecidable(gate?: DecisionGate): Candidate[] {
    const now = this.clock.now;
    if (now === null) return [];
    const taken = this.candidates.queue.take(Math.min(now, this.settled, gate?.before ?? Number.POSITIVE_INFINITY), gate);
    return taken;
  }

  /** Candidates still waiting (explain, metrics). */
  get waiting(): readonly Candidate[] {
    return this.candidates.queue.waiting;
  }

  /** Each customer's earliest due candidate waiting for its decision (the decision frontier). */
  get pendingByCustomer(): Map<string, DecisionKey> {
    return this.candidates.queue.earliestByCustomer();
  }

  get now(): number | null {
    return this.clock.now;
  }

  /**
   * Every candidate before this time exists: stream time, or the earliest observation held for its
   * customer's facts if earlier (a close after it waits, and may still make candidates).
   */
  get settled(): number {
    // (checks being read count as held: another partition's batch may read this while they are)
    let t = Math.min(this.clock.now ?? Number.NEGATIVE_INFINITY, this.checking);
    for (const tag of this.awaitingFacts) t = Math.min(t, earliestAwaiting(this.entities.get(tag)!));
    return t;
  }

  /** Takes the held observations whose customers' facts are final before `before` (every partition's stream time). */
  takeFactChecks(rules: TaskRules, before: number): FactCheck[] {
    const out: FactCheck[] = [];
    for (const tag of this.awaitingFacts) {
      const e = this.entities.get(tag)!;
      const ready = takeFinal(e, before);
      if (ready.length === 0) continue;
      out.push(...ready);
      for (const c of ready) this.checking = Math.min(this.checking, c.item.op.time);
      this.dirty.add(tag);
      if (e.awaitingCount === 0) this.awaitingFacts.delete(tag);
    }
    return out;
  }

  /**
   * Applies the observations of `checks` whose customers' facts (`facts`, in order) match, then the
   * closes they held. Per entity in event-time order, each after the closes before its time: a
   * contributor joins the rule states at its time, as it would have on arrival.
   */
  applyFactChecks(rules: TaskRules, checks: readonly FactCheck[], facts: readonly (Record<string, FactValue> | null)[]): TaskOutcome {
    this.rulesChanged(rules);
    this.checking = Number.POSITIVE_INFINITY;
    const out = emptyOutcome();
    const tally: Record<string, CustomerCheckCounts> = {};
    const order: FactCheck[] = [];
    checks.forEach((c, i) => {
      const counted = counts(c.item, rules.customerFilters, facts[i] ?? null);
      if (counted) order.push(c);
      // (a contributor record follows its observation: one check per event)
      if (c.item.op.kind === 'contrib') return;
      const t = (tally[c.item.cpi] ??= { counted: 0, leftOut: 0 });
      if (counted) t.counted += 1;
      else t.leftOut += 1;
    });
    out.customerChecks = tally;
    order.sort(inTimeOrder);
    this.timers.release();
    for (const { tag, item } of order) {
      this.closeUpTo(rules, tag, item.cpi, item.op.time, out);
      // applied as on arrival: judged late against the time it was judged against then
      const op = { ...item.op, cust: undefined };
      const status = this.applyOp(rules, tag, op, item.judged, item.key, null, true);
      if (status === 'applied' && op.kind === 'contrib') this.candidates.join(rules, this.entity(tag), op, this.clock.now, this.timers, out, undefined);
    }
    this.advance(rules, out, undefined);
    return out;
  }

  /** Runs the due closes of `cpi`'s group in entity `tag` whose boundaries are at or before `time` (and wait for nothing). */
  private closeUpTo(rules: TaskRules, tag: string, cpi: string, time: number, out: TaskOutcome): void {
    const g = groupOfCpi(rules.closeGroups, cpi);
    const e = this.entities.get(tag);
    const now = this.clock.now;
    if (!g || !e || now === null) return;
    for (let at = this.timers.at(tag, g.id); at !== undefined && at <= time && at + g.latenessMs <= now && !closeWaits(e, g, at); at = this.timers.at(tag, g.id)) {
      this.timers.take(tag, g.id);
      this.close(rules, tag, g.id, at, out, undefined);
    }
  }

  entity(tag: string): EntityState {
    let e = this.entities.get(tag);
    if (!e) this.entities.set(tag, (e = new EntityState(tag)));
    return e;
  }

  /** Applies records of the ops topic in order (offset: their position, for redelivery). */
  process(rules: TaskRules, records: readonly { offset: number; record: OpRecord }[]): TaskOutcome {
    this.rulesChanged(rules);
    const out = emptyOutcome();
    this.clock.slackMs = rules.idleSlackMs;
    this.candidates.step();
    for (const { offset, record } of records) {
      if (offset <= this.applied) {
        out.counts.duplicate += record.events.length;
        continue;
      }
      this.applied = offset;
      let i = 0;
      for (let e = 0; e < record.events.length; e++) {
        const event = record.events[e]!;
        const key = event.src === undefined ? event.id : `${event.src}\u0000${event.id}`;
        // the event's status: applied if any of its ops was (or it has none), else duplicate, late, unmatched
        let seen = 0;
        let joins: { tag: string; op: StateOp }[] | undefined;
        // a contributor op follows the op of its CPI (cpis/derive-ops.ts): whose sample was late is no contributor
        let measured: OpStatus | undefined;
        for (; i < record.ops.length && record.ops[i]!.e === e; i++) {
          const { tag, op } = record.ops[i]!;
          const status = op.kind === 'contrib' && measured === 'late' ? 'late' : this.applyOp(rules, tag, op, event.mark, key, this.clock.now);
          if (op.kind !== 'contrib') measured = status;
          seen |= STATUS_BIT[status];
          // (a contributor held for its customer's facts joins once they match: applyFactChecks)
          if (status === 'applied' && (op.kind === 'enroute' || op.kind === 'contrib') && !this.heldForFacts(rules, op)) (joins ??= []).push({ tag, op });
        }
        const status: OpStatus = seen === 0 || seen & STATUS_BIT.applied ? 'applied'
          : seen & STATUS_BIT.duplicate ? 'duplicate' : seen & STATUS_BIT.late ? 'late' : 'unmatched';
        if (event.c !== 0) out.counts[status] += 1;
        if (status === 'late' && event.c !== 0) out.lateEvents.push({ event, source: record.source });
        this.clock.update(record.source, event.mark, false);
        this.advance(rules, out, event.traceparent);
        if (joins) for (const j of joins) this.candidates.join(rules, this.entity(j.tag), j.op, this.clock.now, this.timers, out, event.traceparent);
      }
      this.clock.update(record.source, record.watermark, record.idle);
      this.advance(rules, out, undefined);
    }
    return out;
  }

  /** End of bounded input: stream time to `time` (+Infinity: every timer fires). */
  flush(rules: TaskRules, time: number): TaskOutcome {
    this.rulesChanged(rules);
    const out = emptyOutcome();
    this.candidates.step();
    this.clock.flush(time);
    this.advance(rules, out, undefined);
    return out;
  }

  /** The state changed since the last call, as fields `<tag>|<part>` (null: delete), and the meta. */
  takeWrite(): { fields: Map<string, string | null>; meta: PersistedMeta } {
    const fields = new Map<string, string | null>();
    for (const tag of this.dirty) {
      const e = this.entities.get(tag);
      if (!e) continue;
      for (const [part, v] of e.takeDirty()) fields.set(`${tag}|${part}`, v);
      if (e.isEmpty) this.entities.delete(tag);
    }
    this.dirty.clear();
    const pending = this.candidates.queue.persisted();
    return { fields, meta: { marks: this.clock.snapshot(), now: this.clock.now, applied: this.applied, ...(pending.length > 0 ? { pending } : {}) } };
  }

  /** Rebuilds a partition from its persisted fields (see takeWrite) and re-arms its timers. */
  static restore(partition: number, sources: number, rules: TaskRules, fields: ReadonlyMap<string, string>, meta: PersistedMeta | null): PartitionTask {
    const task = new PartitionTask(partition, sources, meta ?? undefined);
    for (const [field, value] of fields) {
      const bar = field.indexOf('|');
      if (bar < 0) continue;
      task.entity(field.slice(0, bar)).loadPart(field.slice(bar + 1), value);
    }
    for (const e of task.entities.values()) {
      task.rearm(rules, e);
      if (e.awaitingCount > 0) task.awaitingFacts.add(e.tag);
    }
    task.rulesSeen = rules;
    task.candidates.queue.restore(meta?.pending ?? [], rules.rulesById, (rule, time) => dueOf(rules, rule, time));
    return task;
  }

  private rearm(rules: TaskRules, e: EntityState): void {
    const { groups, groupOf } = rules.closeGroups;
    const ids = new Set<string>();
    for (const cpi of e.windowsRead.keys()) { const g = groupOf.get(cpi); if (g) ids.add(g); }
    for (const key of e.closedRead.keys()) if (groups.has(key)) ids.add(key);
    for (const key of e.rulesRead.keys()) { const g = groupOfRule(rules.closeGroups, rules.rulesById.get(ruleIdOfKey(key))); if (g) ids.add(g.id); }
    for (const d of e.deferred) { const g = groupOfRule(rules.closeGroups, rules.rulesById.get(d.rule)); if (g) ids.add(g.id); }
    for (const id of ids) {
      const g = groups.get(id)!;
      const closed = e.closedRead.get(id);
      let firstData: number | undefined;
      for (const cpi of g.cpis) {
        const w = e.windowsRead.get(cpi);
        const f = w?.firstBucket;
        if (f !== undefined) firstData = Math.min(firstData ?? Infinity, f);
      }
      const at = closed !== undefined ? closed + g.resolutionMs : firstData !== undefined ? (firstData + 1) * g.resolutionMs : undefined;
      if (at !== undefined) this.timers.schedule(e.tag, id, at, g.latenessMs);
    }
  }

  /** Applies an op at stream time `now` (null: as judged against `sourceTime` alone, for held observations). */
  private applyOp(rules: TaskRules, tag: string, op: StateOp, sourceTime: number | null, eventKey: string | undefined, now: number | null, held = false): OpStatus {
    const e = this.entity(tag);
    this.dirty.add(tag);
    if (this.heldForFacts(rules, op)) {
      const status = holdForFacts(e, op, rules.customerFilters.get(op.cpi)!, judgedTime(now, sourceTime), rules.specs.get(op.cpi), eventKey);
      if (e.awaitingCount > 0) this.awaitingFacts.add(tag);
      return status;
    }
    const outcome = e.apply(op, now, rules.specs, sourceTime, eventKey, held);
    if (outcome.window) {
      const g = groupOfCpi(rules.closeGroups, outcome.window.cpi);
      if (g) {
        const closed = e.closed.get(g.id);
        const end = (bucketOf(outcome.window.time, g.resolutionMs) + 1) * g.resolutionMs;
        this.timers.schedule(tag, g.id, closed !== undefined ? Math.max(end, closed + g.resolutionMs) : end, g.latenessMs);
      }
    }
    return outcome.status;
  }

  /** An observation (or contributor record) of a CPI with `customers`: it waits for its customer's facts. */
  private heldForFacts(rules: TaskRules, op: StateOp): op is WindowOp | ContributorOp {
    return op.kind !== 'fact' && op.kind !== 'enroute' && op.cust !== undefined && rules.customerFilters.has(op.cpi);
  }

  private advance(rules: TaskRules, out: TaskOutcome, traceparent: string | undefined): void {
    const now = this.clock.now;
    if (now === null) return;
    for (let t = this.timers.popDue(now); t; t = this.timers.popDue(now)) {
      // a close waits while an observation before its boundary waits for its customer's facts
      const e = this.awaitingFacts.has(t.tag) ? this.entities.get(t.tag) : undefined;
      const g = e ? rules.closeGroups.groups.get(t.cpi) : undefined;
      if (e && g && closeWaits(e, g, t.at)) this.timers.hold(t);
      else this.close(rules, t.tag, t.cpi, t.at, out, traceparent);
    }
  }

  /**
   * Evaluates every rule of close group `group` (rules/close-groups.ts) in entity `tag` at boundary
   * `at`, on the windows of all its CPIs at that boundary, records the values its trends read, and
   * re-arms the timer.
   */
  private close(rules: TaskRules, tag: string, group: string, at: number, out: TaskOutcome, traceparent: string | undefined): void {
    const e = this.entities.get(tag);
    const g = rules.closeGroups.groups.get(group);
    if (e && !g) {
      // a timer of a close group the reloaded rules no longer have (a rule joined or left CPIs): the groups of its CPIs now
      for (const cpi of group.split('+')) { const now = groupOfCpi(rules.closeGroups, cpi); if (now) this.timers.schedule(tag, now.id, at, now.latenessMs); }
    }
    if (!e || !g) return;
    this.dirty.add(tag);
    // closes where nothing can change are skipped, or evaluate nothing (pipeline/close-schedule.ts)
    let live: boolean;
    if (mustEvaluate(e, g, rules.specs, at, this.rulesEpoch)) {
      live = evaluateClose(rules, e, g, at, out, (rule, ep) => this.candidates.fire(rules, rule, e, ep, out, traceparent));
      for (const cpi of g.cpis) { const w = e.windowsRead.get(cpi); if (w) w.evaluatedEpoch = this.rulesEpoch; }
    } else {
      live = tiersOf(g.rules).some(({ rule, tier }) => e.rulesRead.has(tierKey(rule.id, tier)));
    }
    e.closed.set(g.id, at);
    // a CPI that joined a group (a rule with `when` was added) leaves its own close behind
    for (const cpi of g.cpis) if (cpi !== g.id && e.closed.delete(cpi)) e.touch('m');
    e.touch('m');
    this.afterClose(rules, e, g, at, live, out, traceparent);
  }

  /** After a close: waiting joins whose rule state is known now, eviction, and the next close. */
  private afterClose(rules: TaskRules, e: EntityState, g: CloseGroup, at: number, live: boolean, out: TaskOutcome, traceparent: string | undefined): void {
    const tag = e.tag;
    // audience joins waiting for the rule states at their time: known up to the next boundary now
    const waiting = e.deferred.filter((d) => groupOfRule(rules.closeGroups, rules.rulesById.get(d.rule)) === g);
    let joinAt = Infinity;
    if (waiting.length > 0) {
      const ready = waiting.filter((d) => Math.floor(d.time / g.resolutionMs) * g.resolutionMs <= at);
      e.deferred = e.deferred.filter((d) => !ready.includes(d) && rules.rulesById.has(d.rule));
      for (const d of ready) this.candidates.checkJoin(rules, rules.rulesById.get(d.rule)!, e, d.customer, d.time, d.etaMs, out, traceparent);
      // the first boundary at which a join still waiting is ready
      for (const d of waiting) if (!ready.includes(d)) joinAt = Math.min(joinAt, Math.floor(d.time / g.resolutionMs) * g.resolutionMs);
    }
    const { next, allEmpty } = scheduleAfterClose(e, g, rules.specs, at, live, joinAt);
    if (next !== Infinity) this.timers.schedule(tag, g.id, next, g.latenessMs);
    else if (!live && allEmpty && e.rules.size === 0) e.closed.delete(g.id);
  }

  /**
   * A new rule set: every entity's next close is the next step again (closes skipped while nothing
   * changed would evaluate differently under the new rules: a lower threshold, a new rule on the CPI).
   */
  private rulesChanged(rules: TaskRules): void {
    const before = this.rulesSeen;
    this.rulesSeen = rules;
    if (before === undefined || before === rules) return;
    this.rulesEpoch++;
    for (const e of this.entities.values()) this.rearm(rules, e);
  }
}
