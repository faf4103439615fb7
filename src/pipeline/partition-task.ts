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
 * `run` feeds it from the ops topic (pipeline/owner-stage.ts); backtests and rule tests feed it directly
 * from the routing stage (pipeline/replay.ts). Candidates go on to pipeline/decide-candidates.ts.
 */
import { offerIdOf } from '../actions/offer-id.js';
import type { OpStatus, StateOp } from '../cpis/ops.js';
import { parseTag } from '../cpis/tags.js';
import type { EventCounts } from './types.js';
import { evaluateRule, type Evaluation } from '../rules/evaluate.js';
import type { CompiledRule } from '../rules/compiled.js';
import { CloseTimers } from '../stream-time/close-timers.js';
import { changedSince, nextCloseAt } from '../stream-time/next-close.js';
import { StreamClock, type SourceMark } from '../stream-time/stream-clock.js';
import { bucketOf, firstBucketBefore, type CpiWindow } from '../windows/cpi-window.js';
import type { CpiWindowSpec } from '../windows/window-spec.js';
import { EntityState, type EpisodeRecord } from '../entities/entity-state.js';
import { CandidateQueue, type Candidate, type PendingCandidate } from './candidate-queue.js';
import type { DecisionGate } from './decision-frontier.js';
import type { OpRecord, RoutedEvent } from './op-records.js';

/** What the task needs of the loaded rules (pipeline/active-rules.ts). */
export interface TaskRules {
  specs: ReadonlyMap<string, CpiWindowSpec>;
  rulesByCpi: ReadonlyMap<string, readonly CompiledRule[]>;
  rulesById: ReadonlyMap<string, CompiledRule>;
  /** Rules whose audience an op feeds: "enroute|<scope dimension>" or "contrib|<audience>". */
  audienceRules: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Each rule's place in the rule set: at equal times, earlier rules are decided first. */
  ruleOrder: ReadonlyMap<string, number>;
  /** How far an idle source may hold stream time behind the active ones (stream-time/stream-clock.ts). */
  idleSlackMs: number;
}


export type { Candidate, PendingCandidate };

export interface EvaluationRecord extends Evaluation { ruleId: string; scopeTag: string }

export interface TaskOutcome {
  /** Per routed event (for this partition's ops): applied, late, duplicate, unmatched. */
  counts: Pick<EventCounts, 'applied' | 'late' | 'duplicate' | 'unmatched'>;
  lateEvents: { event: RoutedEvent; source: number }[];
  evaluations: EvaluationRecord[];
  candidates: Candidate[];
}


export interface PersistedMeta { marks: SourceMark[]; now: number | null; applied: number; pending?: PendingCandidate[] }

/**
 * The watermark a source had reached at the owners, from their persisted metas: where a new router
 * of the source (after a restart or a rebalance) starts, so its idle marks carry on from there
 * instead of leaving the source out of stream time until it routes again.
 */
export function sourceWatermarkOf(metas: readonly (string | null)[], source: number): number | null {
  let max: number | null = null;
  for (const m of metas) {
    if (m === null) continue;
    const w = (JSON.parse(m) as PersistedMeta).marks[source]?.watermark ?? null;
    if (w !== null && (max === null || w > max)) max = w;
  }
  return max;
}

export function emptyOutcome(): TaskOutcome {
  return { counts: { applied: 0, late: 0, duplicate: 0, unmatched: 0 }, lateEvents: [], evaluations: [], candidates: [] };
}

/** One bit per op status, so an event's status is found without a list per event. */
const STATUS_BIT: Record<OpStatus, number> = { applied: 1, duplicate: 2, late: 4, unmatched: 8 };

export class PartitionTask {
  readonly entities = new Map<string, EntityState>();
  readonly timers = new CloseTimers();
  readonly clock: StreamClock;
  /** Last offset of the ops topic partition applied (records at or below it are redeliveries). */
  applied = -1;
  private readonly dirty = new Set<string>();
  private seen = new Set<string>();
  private metaDirty = false;
  /** Candidates waiting for their decision (pipeline/candidate-queue.ts). */
  private readonly queue = new CandidateQueue();
  /** The rule set the timers were last scheduled for (see rulesChanged). */
  private rulesSeen?: TaskRules;
  /** Counts rule-set changes: a window last evaluated under an earlier one is evaluated at its next close. */
  private rulesEpoch = 0;

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
    const taken = this.queue.take(Math.min(now, gate?.before ?? Number.POSITIVE_INFINITY), gate);
    this.metaDirty ||= taken.length > 0;
    return taken;
  }

  /** Candidates still waiting (explain, metrics). */
  get waiting(): readonly Candidate[] {
    return this.queue.waiting;
  }

  /** Each customer's earliest due candidate waiting for its decision (the decision frontier). */
  get pendingByCustomer(): Map<string, number> {
    return this.queue.earliestByCustomer();
  }

  get now(): number | null {
    return this.clock.now;
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
    this.seen = new Set();
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
          const status = op.kind === 'contrib' && measured === 'late' ? 'late' : this.applyOp(rules, tag, op, event.mark, key);
          if (op.kind !== 'contrib') measured = status;
          seen |= STATUS_BIT[status];
          if (status === 'applied' && (op.kind === 'enroute' || op.kind === 'contrib')) (joins ??= []).push({ tag, op });
        }
        const status: OpStatus = seen === 0 || seen & STATUS_BIT.applied ? 'applied'
          : seen & STATUS_BIT.duplicate ? 'duplicate' : seen & STATUS_BIT.late ? 'late' : 'unmatched';
        if (event.c !== 0) out.counts[status] += 1;
        if (status === 'late' && event.c !== 0) out.lateEvents.push({ event, source: record.source });
        this.clock.update(record.source, event.mark, false);
        this.advance(rules, out, event.traceparent);
        if (joins) for (const j of joins) this.join(rules, j.tag, j.op, out, event.traceparent);
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
    this.seen = new Set();
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
    this.metaDirty = false;
    const pending = this.queue.persisted();
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
    for (const e of task.entities.values()) task.rearm(rules, e);
    task.rulesSeen = rules;
    task.queue.restore(meta?.pending ?? [], rules.rulesById, (rule, time) => dueOf(rules, rule, time));
    return task;
  }

  private rearm(rules: TaskRules, e: EntityState): void {
    const cpis = new Set<string>([...e.windowsRead.keys(), ...e.closedRead.keys()]);
    for (const ruleId of e.rulesRead.keys()) { const r = rules.rulesById.get(ruleId); if (r) cpis.add(r.cpi.id); }
    for (const d of e.deferred) { const r = rules.rulesById.get(d.rule); if (r) cpis.add(r.cpi.id); }
    for (const cpi of cpis) {
      const spec = rules.specs.get(cpi);
      if (!spec) continue;
      const closed = e.closedRead.get(cpi);
      const w = e.windowsRead.get(cpi);
      const firstData = w?.firstBucket;
      const at = closed !== undefined ? closed + spec.resolutionMs : firstData !== undefined ? (firstData + 1) * spec.resolutionMs : undefined;
      if (at !== undefined) this.timers.schedule(e.tag, cpi, at, spec.latenessMs);
    }
  }

  private applyOp(rules: TaskRules, tag: string, op: StateOp, sourceTime: number, eventKey: string): OpStatus {
    const e = this.entity(tag);
    const outcome = e.apply(op, this.clock.now, rules.specs, sourceTime, eventKey);
    this.dirty.add(tag);
    if (outcome.window) {
      const spec = rules.specs.get(outcome.window.cpi)!;
      const closed = e.closed.get(outcome.window.cpi);
      const end = (bucketOf(outcome.window.time, spec.resolutionMs) + 1) * spec.resolutionMs;
      this.timers.schedule(tag, outcome.window.cpi, closed !== undefined ? Math.max(end, closed + spec.resolutionMs) : end, spec.latenessMs);
    }
    return outcome.status;
  }

  private advance(rules: TaskRules, out: TaskOutcome, traceparent: string | undefined): void {
    const now = this.clock.now;
    if (now === null) return;
    for (let t = this.timers.popDue(now); t; t = this.timers.popDue(now)) this.close(rules, t.tag, t.cpi, t.at, out, traceparent);
  }

  /** Evaluates every rule on `cpi` in entity `tag` at boundary `at`, and re-arms the timer. */
  private close(rules: TaskRules, tag: string, cpi: string, at: number, out: TaskOutcome, traceparent: string | undefined): void {
    const e = this.entities.get(tag);
    const spec = rules.specs.get(cpi);
    if (!e || !spec) return;
    this.dirty.add(tag);
    const w = e.window(cpi);
    const onCpi = rules.rulesByCpi.get(cpi) ?? [];
    const pending: { since: number; forMs: number }[] = [];
    for (const rule of onCpi) {
      const s = e.rulesRead.get(rule.id);
      if (s?.status === 'pending') pending.push({ since: s.since, forMs: rule.forMs });
    }
    // a close at a boundary where nothing changed since the last one (here only for a join waiting
    // on it) would evaluate to what that one did: whether it runs depends on when the join arrived,
    // so it evaluates nothing (and records nothing) unless the rules changed since
    const last = e.closedRead.get(cpi);
    let live: boolean;
    if (last === undefined || w.evaluatedEpoch !== this.rulesEpoch || changedSince(w, spec, last, at, pending)) {
      live = this.evaluate(rules, e, w, spec, onCpi, at, out, traceparent);
      w.evaluatedEpoch = this.rulesEpoch;
    } else {
      live = onCpi.some((r) => e.rulesRead.has(r.id));
    }
    e.closed.set(cpi, at);
    e.touch('m');
    this.afterClose(rules, e, w, spec, cpi, at, live, out, traceparent);
  }

  /** Evaluates every rule on the CPI at boundary `at`; whether any is left pending or firing. */
  private evaluate(rules: TaskRules, e: EntityState, w: CpiWindow, spec: CpiWindowSpec, onCpi: readonly CompiledRule[], at: number, out: TaskOutcome, traceparent: string | undefined): boolean {
    const tag = e.tag;
    const snapshot = w.snapshot(at, spec);
    let live = false;
    // a close with no data and no rule state to move (only a join waiting on it) evaluates nothing worth
    // reporting; whether it runs at all depends on when the join arrived
    const empty = snapshot.count === 0 && snapshot.den === 0;
    for (const rule of onCpi) {
      const prev = e.rules.get(rule.id);
      const ev = evaluateRule(rule, snapshot, prev);
      if (prev || !empty || ev.transition) out.evaluations.push({ ...ev, ruleId: rule.id, scopeTag: tag });
      const episodes = e.episodes.get(rule.id) ?? [];
      if (ev.transition === 'fire') {
        const ep: EpisodeRecord = { start: at, end: null, value: ev.value! };
        episodes.push(ep);
        this.fireCandidates(rules, rule, e, ep, out, traceparent);
      } else if (ev.transition === 'clear') {
        const open = episodes.find((x) => x.end === null);
        if (open) open.end = at;
      }
      const within = 'withinMs' in rule.target ? rule.target.withinMs : 0;
      const kept = episodes.filter((x) => x.end === null || x.end + within + spec.latenessMs >= at);
      if (kept.length > 0) e.episodes.set(rule.id, kept);
      else e.episodes.delete(rule.id);
      const next = ev.state.status === 'inactive' ? null : ev.state;
      if (JSON.stringify(next ?? null) !== JSON.stringify(prev ?? null)) e.setRule(rule.id, next);
      if (next) live = true;
    }
    return live;
  }

  /** After a close: waiting joins whose rule state is known now, eviction, and the next close. */
  private afterClose(rules: TaskRules, e: EntityState, w: CpiWindow, spec: CpiWindowSpec, cpi: string, at: number, live: boolean, out: TaskOutcome, traceparent: string | undefined): void {
    const tag = e.tag;
    // audience joins waiting for the rule states at their time: known up to the next boundary now
    const waiting = e.deferred.filter((d) => rules.rulesById.get(d.rule)?.cpi.id === cpi);
    let joinAt = Infinity;
    if (waiting.length > 0) {
      const ready = waiting.filter((d) => Math.floor(d.time / spec.resolutionMs) * spec.resolutionMs <= at);
      e.deferred = e.deferred.filter((d) => !ready.includes(d) && rules.rulesById.has(d.rule));
      for (const d of ready) this.checkJoin(rules, rules.rulesById.get(d.rule)!, e, d.customer, d.time, d.etaMs, out, traceparent);
      // the first boundary at which a join still waiting is ready
      for (const d of waiting) if (!ready.includes(d)) joinAt = Math.min(joinAt, Math.floor(d.time / spec.resolutionMs) * spec.resolutionMs);
    }
    // the next close is the next boundary whose window differs (a bucket with data comes in or
    // leaves), at which a pending breach reaches its `for`, or at which a waiting join is ready: the
    // closes between would evaluate to this one (an empty stretch is skipped too, so an event from
    // the year 472 and one of today are not 35 million closes apart, one per step)
    const stillPending: { since: number; forMs: number }[] = [];
    for (const rule of rules.rulesByCpi.get(cpi) ?? []) {
      const s = e.rulesRead.get(rule.id);
      if (s?.status === 'pending') stillPending.push({ since: s.since, forMs: rule.forMs });
    }
    const next = nextCloseAt(w, spec, at, stillPending, joinAt);
    // buckets before this window are in no later one (this window's are kept: the next close tells
    // from them whether anything changed, see changedSince)
    w.evictBefore(firstBucketBefore(at, spec));
    // the steps before `at` are final: a repeat of their events is late now, their keys can go
    w.forgetKeysBefore(bucketOf(at, spec.resolutionMs));
    if (next !== Infinity) this.timers.schedule(tag, cpi, next, spec.latenessMs);
    else if (!live && w.isEmpty && e.rules.size === 0) e.closed.delete(cpi);
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

  private fireCandidates(rules: TaskRules, rule: CompiledRule, e: EntityState, ep: EpisodeRecord, out: TaskOutcome, traceparent: string | undefined): void {
    const t = rule.target;
    if (t.kind === 'scopeCustomer') {
      this.candidate(out, rules, rule, e.tag, ep, parseTag(e.tag).value, ep.start, ep.start, traceparent);
      return;
    }
    const members = t.kind === 'enRoute'
      ? e.audience('enroute', undefined, ep.start - t.withinMs, ep.start)
      : e.audience('contrib', t.audience, ep.start - t.withinMs, ep.start);
    // customers already at the store when the breach began are not on their way to it
    const sorted = members.filter((m) => m.etaMs === undefined || m.time + m.etaMs >= ep.start)
      .sort((a, b) => a.time - b.time || (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0));
    for (const m of sorted) this.candidate(out, rules, rule, e.tag, ep, m.customer, ep.start, m.time, traceparent);
  }

  /** A customer joined a rule's audience: a candidate now if the rule's state at that time is known. */
  private join(rules: TaskRules, tag: string, op: StateOp, out: TaskOutcome, traceparent: string | undefined): void {
    if (op.kind !== 'enroute' && op.kind !== 'contrib') return;
    const key = op.kind === 'enroute' ? `enroute|${parseTag(tag).dimension}` : `contrib|${op.cpi}`;
    const e = this.entity(tag);
    for (const rule of rules.audienceRules.get(key) ?? []) {
      const spec = rules.specs.get(rule.cpi.id);
      if (!spec) continue;
      const boundary = Math.floor(op.time / spec.resolutionMs) * spec.resolutionMs;
      const etaMs = op.kind === 'enroute' ? op.etaMs : undefined;
      const now = this.clock.now;
      // the rule's state at the join is known once the boundary before it has closed (its lateness after)
      if (now === null || now < boundary + spec.latenessMs) {
        e.defer({ rule: rule.id, customer: op.customer, time: op.time, ...(etaMs !== undefined ? { etaMs } : {}) });
        e.touch('m');
        this.timers.schedule(tag, rule.cpi.id, boundary, spec.latenessMs);
        continue;
      }
      this.checkJoin(rules, rule, e, op.customer, op.time, etaMs, out, traceparent);
    }
  }

  private checkJoin(rules: TaskRules, rule: CompiledRule, e: EntityState, customer: string, time: number, etaMs: number | undefined, out: TaskOutcome, traceparent: string | undefined): void {
    const within = 'withinMs' in rule.target ? rule.target.withinMs : 0;
    for (const ep of e.episodes.get(rule.id) ?? []) {
      if (ep.start <= time && (ep.end === null || time < ep.end)) {
        this.candidate(out, rules, rule, e.tag, ep, customer, time, time, traceparent);
      } else if (time < ep.start && time >= ep.start - within && (etaMs === undefined || time + etaMs >= ep.start)) {
        // arrived after the fire, but was on the way when it fired: the fire-time audience's
        this.candidate(out, rules, rule, e.tag, ep, customer, ep.start, time, traceparent);
      }
    }
  }

  private candidate(out: TaskOutcome, rules: TaskRules, rule: CompiledRule, tag: string, ep: EpisodeRecord, customerId: string, time: number, joined: number, traceparent: string | undefined): void {
    const offerId = offerIdOf(rule.id, customerId, tag, ep.start);
    if (this.seen.has(offerId) || this.queue.has(offerId)) return;
    this.seen.add(offerId);
    const c: Candidate = { offerId, rule, tag, episode: ep.start, value: ep.value, customerId, time, due: dueOf(rules, rule, time), rank: rules.ruleOrder.get(rule.id) ?? 0, joined, ...(traceparent ? { traceparent } : {}) };
    out.candidates.push(c);
    this.queue.add(c);
    this.metaDirty = true;
  }
}

/** When a candidate at `time` of `rule` may be decided: its time plus its CPI's allowed lateness. */
function dueOf(rules: TaskRules, rule: CompiledRule, time: number): number {
  return time + (rules.specs.get(rule.cpi.id)?.latenessMs ?? 0);
}
