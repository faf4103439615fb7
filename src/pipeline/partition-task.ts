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
import type { ContributorOp, OpStatus, StateOp, WindowOp } from '../cpis/ops.js';
import { parseTag } from '../cpis/tags.js';
import type { CustomerCheckCounts, EventCounts } from './types.js';
import { addChecks } from './step-result.js';
import { evaluateRule, ruleIdOfKey, tierKey, type Evaluation } from '../rules/evaluate.js';
import type { CompiledRule } from '../rules/compiled.js';
import type { CloseGroup, CloseGroups } from '../rules/close-groups.js';
import { seriesKey, type RuleInputs } from '../rules/conditions.js';
import { dropStaleTiers, episodesOfRule, groupOfCpi, groupOfRule, recordSeries, tiersOf } from './close-helpers.js';
import { mustEvaluate, scheduleAfterClose } from './close-schedule.js';
import { CloseTimers } from '../stream-time/close-timers.js';
import { StreamClock, type SourceMark } from '../stream-time/stream-clock.js';
import { bucketOf } from '../windows/cpi-window.js';
import { emptySnapshot, type CpiWindowSpec, type WindowSnapshot } from '../windows/window-spec.js';
import { EntityState, judgedTime, type EpisodeRecord } from '../entities/entity-state.js';
import type { FactValue } from '../entities/facts.js';
import { closeWaits, counts, earliestAwaiting, holdForFacts, takeFinal, type CustomerFilter, type FactCheck } from './fact-checks.js';
import { CandidateQueue, type Candidate, type DecisionKey, type PendingCandidate } from './candidate-queue.js';
import type { DecisionGate } from './decision-frontier.js';
import type { OpRecord, RoutedEvent } from './op-records.js';

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

/** An evaluation of a rule in a scope; `tier` for a threshold tier's (absent: the rule's own thresholds). */
export interface EvaluationRecord extends Evaluation { ruleId: string; scopeTag: string; tier?: number }

export interface TaskOutcome {
  /** Per routed event (for this partition's ops): applied, late, duplicate, unmatched. */
  counts: Pick<EventCounts, 'applied' | 'late' | 'duplicate' | 'unmatched'>;
  lateEvents: { event: RoutedEvent; source: number }[];
  evaluations: EvaluationRecord[];
  candidates: Candidate[];
  /** Per CPI with `customers`: the held events whose customers' facts were read, counted or left out. */
  customerChecks?: Record<string, CustomerCheckCounts>;
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

/** Adds `b`'s counts, late events, evaluations and candidates to `a` (returned). */
export function mergeOutcomes(a: TaskOutcome, b: TaskOutcome): TaskOutcome {
  for (const k of Object.keys(a.counts) as (keyof TaskOutcome['counts'])[]) a.counts[k] += b.counts[k];
  a.lateEvents.push(...b.lateEvents);
  a.evaluations.push(...b.evaluations);
  a.candidates.push(...b.candidates);
  if (b.customerChecks) a.customerChecks = addChecks(a.customerChecks ?? {}, b.customerChecks);
  return a;
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
  /** Entities holding observations for their customers' facts (pipeline/fact-checks.ts). */
  private readonly awaitingFacts = new Set<string>();

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
    const taken = this.queue.take(Math.min(now, this.settled, gate?.before ?? Number.POSITIVE_INFINITY), gate);
    this.metaDirty ||= taken.length > 0;
    return taken;
  }

  /** Candidates still waiting (explain, metrics). */
  get waiting(): readonly Candidate[] {
    return this.queue.waiting;
  }

  /** Each customer's earliest due candidate waiting for its decision (the decision frontier). */
  get pendingByCustomer(): Map<string, DecisionKey> {
    return this.queue.earliestByCustomer();
  }

  get now(): number | null {
    return this.clock.now;
  }

  /**
   * Every candidate before this time exists: stream time, or the earliest observation held for its
   * customer's facts if earlier (a close after it waits, and may still make candidates).
   */
  get settled(): number {
    let t = this.clock.now ?? Number.NEGATIVE_INFINITY;
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
      this.dirty.add(tag);
      if (e.awaiting.length === 0) this.awaitingFacts.delete(tag);
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
    const out = emptyOutcome();
    const tally: Record<string, CustomerCheckCounts> = {};
    const order = checks.map((_, i) => i).filter((i) => {
      const counted = counts(checks[i]!.item, rules.customerFilters, facts[i] ?? null);
      // (a contributor record follows its observation: one check per event)
      if (checks[i]!.item.op.kind !== 'contrib') addChecks(tally, { [checks[i]!.item.cpi]: { counted: counted ? 1 : 0, leftOut: counted ? 0 : 1 } });
      return counted;
    });
    out.customerChecks = tally;
    order.sort((a, b) => inTimeOrder(checks[a]!, checks[b]!) || a - b);
    this.timers.release();
    for (const i of order) {
      const { tag, item } = checks[i]!;
      this.closeUpTo(rules, tag, item.cpi, item.op.time, out);
      // applied as on arrival: judged late against the time it was judged against then
      const op = { ...item.op, cust: undefined };
      const status = this.applyOp(rules, tag, op, item.judged, item.key, null, true);
      if (status === 'applied' && op.kind === 'contrib') this.join(rules, tag, op, out, undefined);
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
    for (const e of task.entities.values()) {
      task.rearm(rules, e);
      if (e.awaiting.length > 0) task.awaitingFacts.add(e.tag);
    }
    task.rulesSeen = rules;
    task.queue.restore(meta?.pending ?? [], rules.rulesById, (rule, time) => dueOf(rules, rule, time));
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
      if (e.awaiting.length > 0) this.awaitingFacts.add(tag);
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
      live = this.evaluate(rules, e, g, at, out, traceparent);
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

  /** Evaluates every rule of the group at boundary `at`; whether any is left pending or firing. */
  private evaluate(rules: TaskRules, e: EntityState, g: CloseGroup, at: number, out: TaskOutcome, traceparent: string | undefined): boolean {
    const tag = e.tag;
    const snapshots = new Map<string, WindowSnapshot>();
    for (const cpi of g.cpis) {
      const w = e.windowsRead.get(cpi);
      snapshots.set(cpi, w ? w.snapshot(at, rules.specs.get(cpi)!) : emptySnapshot(cpi, at));
    }
    let live = false;
    // a close with no data and no rule state to move (only a join waiting on it) evaluates nothing worth
    // reporting; whether it runs at all depends on when the join arrived
    let empty = true;
    for (const snap of snapshots.values()) if (snap.count !== 0 || snap.den !== 0) empty = false;
    recordSeries(e, g, at, snapshots);
    const inputs: RuleInputs = { at, snapshot: (cpi) => snapshots.get(cpi)!, history: (cpi, aggregate) => e.historyRead.get(seriesKey(cpi, aggregate)) };
    for (const { rule, tier } of tiersOf(g.rules)) {
      const key = tierKey(rule.id, tier);
      const prev = e.rules.get(key);
      const ev = evaluateRule(rule, inputs, prev, tier);
      if (prev || !empty || ev.transition) out.evaluations.push({ ...ev, ruleId: rule.id, scopeTag: tag, ...(tier > 0 ? { tier } : {}) });
      const episodes = e.episodes.get(key) ?? [];
      if (ev.transition === 'fire') {
        const ep: EpisodeRecord = { start: at, end: null, value: ev.value!, ...(tier > 0 ? { tier } : {}), ...(ev.lead > 0 ? { condition: ev.lead } : {}) };
        episodes.push(ep);
        this.fireCandidates(rules, rule, e, ep, out, traceparent);
      } else if (ev.transition === 'clear') {
        const open = episodes.find((x) => x.end === null);
        if (open) open.end = at;
      }
      const within = 'withinMs' in rule.target ? rule.target.withinMs : 0;
      const kept = episodes.filter((x) => x.end === null || x.end + within + g.latenessMs >= at);
      if (kept.length > 0) e.episodes.set(key, kept);
      else e.episodes.delete(key);
      const next = ev.state.status === 'inactive' ? null : ev.state;
      if (JSON.stringify(next ?? null) !== JSON.stringify(prev ?? null)) e.setRule(key, next);
      if (next) live = true;
    }
    dropStaleTiers(e, g, rules.rulesById);
    return live;
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
      for (const d of ready) this.checkJoin(rules, rules.rulesById.get(d.rule)!, e, d.customer, d.time, d.etaMs, out, traceparent);
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
      const g = groupOfRule(rules.closeGroups, rule);
      if (!g) continue;
      const boundary = Math.floor(op.time / g.resolutionMs) * g.resolutionMs;
      const etaMs = op.kind === 'enroute' ? op.etaMs : undefined;
      const now = this.clock.now;
      // the rule's state at the join is known once the boundary before it has closed (its lateness after)
      if (now === null || now < boundary + g.latenessMs) {
        e.defer({ rule: rule.id, customer: op.customer, time: op.time, ...(etaMs !== undefined ? { etaMs } : {}) });
        e.touch('m');
        this.timers.schedule(tag, g.id, boundary, g.latenessMs);
        continue;
      }
      this.checkJoin(rules, rule, e, op.customer, op.time, etaMs, out, traceparent);
    }
  }

  private checkJoin(rules: TaskRules, rule: CompiledRule, e: EntityState, customer: string, time: number, etaMs: number | undefined, out: TaskOutcome, traceparent: string | undefined): void {
    const within = 'withinMs' in rule.target ? rule.target.withinMs : 0;
    for (const ep of episodesOfRule(rule, e)) {
      if (ep.start <= time && (ep.end === null || time < ep.end)) {
        this.candidate(out, rules, rule, e.tag, ep, customer, time, time, traceparent);
      } else if (time < ep.start && time >= ep.start - within && (etaMs === undefined || time + etaMs >= ep.start)) {
        // arrived after the fire, but was on the way when it fired: the fire-time audience's
        this.candidate(out, rules, rule, e.tag, ep, customer, ep.start, time, traceparent);
      }
    }
  }

  private candidate(out: TaskOutcome, rules: TaskRules, rule: CompiledRule, tag: string, ep: EpisodeRecord, customerId: string, time: number, joined: number, traceparent: string | undefined): void {
    // a tier's episode is its own: two tiers firing at one boundary make two candidates (the customer's tier's is offered)
    const offerId = offerIdOf(tierKey(rule.id, ep.tier ?? 0), customerId, tag, ep.start);
    if (this.seen.has(offerId) || this.queue.has(offerId)) return;
    this.seen.add(offerId);
    const c: Candidate = { offerId, rule, tag, episode: ep.start, value: ep.value, customerId, time, due: dueOf(rules, rule, time), rank: rules.ruleOrder.get(rule.id) ?? 0, joined, ...(ep.tier ? { tier: ep.tier } : {}), ...(ep.condition ? { condition: ep.condition } : {}), ...(traceparent ? { traceparent } : {}) };
    out.candidates.push(c);
    this.queue.add(c);
    this.metaDirty = true;
  }
}

/** Held observations of one entity in event-time order; a start before an end at the same time. */
function inTimeOrder(a: FactCheck, b: FactCheck): number {
  if (a.tag !== b.tag) return a.tag < b.tag ? -1 : 1;
  const rank = (c: FactCheck) => (c.item.op.kind === 'start' ? 0 : c.item.op.kind === 'contrib' ? 2 : 1);
  return a.item.op.time - b.item.op.time || rank(a) - rank(b);
}

/** When a candidate at `time` of `rule` may be decided: its time plus its close group's allowed lateness. */
function dueOf(rules: TaskRules, rule: CompiledRule, time: number): number {
  return time + (groupOfRule(rules.closeGroups, rule)?.latenessMs ?? 0);
}
