/**
 * Everything kept for one entity (a store, a customer, any CPI scope), owned by one partition:
 * its CPI windows, half-joined durations, facts, audiences (customers en route, contributors), the
 * states of the rules scoped to it and their recent breach episodes.
 *
 * Ops are applied here against the partition's stream time (lateness); bucket closes and rule
 * evaluations are driven by the partition (pipeline/partition-task.ts). Persisted as parts (one
 * string each) so a batch writes only what it changed: see `takeDirty`.
 */
import type { CpiWindowSpec } from '../windows/window-spec.js';
import { CpiWindow, isLate, type Observation } from '../windows/cpi-window.js';
import type { RuleState } from '../rules/rule-state.js';
import type { ContributorOp, OpStatus, StartOp, StateOp, WindowOp } from '../cpis/ops.js';
import { Facts } from './facts.js';
import { ValueHistory } from '../windows/value-history.js';

/** A half-joined duration; an end keeps its event's key (the pair's sample is that end's). */
/** `j`: the time a half held for its customer's facts was judged against (pipeline/fact-checks.ts). */
type Pending = ({ side: 's'; time: number; divisorMs: number } | { side: 'e'; time: number; k?: string }) & { j?: number | null };

export interface AudienceRecord { customer: string; time: number; etaMs?: number }

/** A breach episode of a rule in this scope: fired at `start`, cleared at `end` (null: firing). */
/** `tier`: a threshold tier's episode; `condition`: the index of the condition whose value `value` is (absent: the first). */
export interface EpisodeRecord { start: number; end: number | null; value: number; tier?: number; condition?: number }

/** An audience op whose candidates wait until the rule states at its time are known. */
export interface DeferredJoin { rule: string; customer: string; time: number; etaMs?: number }

/**
 * An observation of a CPI with `customers`, waiting until its customer's facts at its time are final
 * (pipeline/fact-checks.ts). `judged` is the time its lateness was judged against on arrival: it is
 * applied later as it would have been then.
 */
export interface AwaitingFacts {
  /** An observation, or the contributor record that follows it. */
  op: WindowOp | ContributorOp;
  /** The CPI whose `customers` decide. */
  cpi: string;
  /** When the customer's facts at the op's time are final: its time plus the CPI's allowed lateness. */
  until: number;
  key?: string;
  judged: number | null;
  /** Its number in the entity, in arrival order (its part is a|<n>). */
  n: number;
}

/** The time an op is judged late against: stream time, or its own source's newest event time if ahead. */
export function judgedTime(now: number | null, sourceTime: number | null): number | null {
  return now === null ? sourceTime : sourceTime === null ? now : Math.max(now, sourceTime);
}

/** The result of applying one op, and where its observation went (for close scheduling). */
export interface ApplyOutcome { status: OpStatus; sample?: number; window?: { cpi: string; time: number } }

const MAX_EVICT = 50;

/** Shared by every entity that has none of a kind: never written (the getters below allocate). */
const NONE: ReadonlyMap<string, never> = new Map<string, never>();
const NO_RECORDS: readonly never[] = Object.freeze([]);

export class EntityState {
  // Most entities are customers with facts only: the maps are allocated on first write, so such an
  // entity costs an object and its facts (an owner holds hundreds of thousands in memory).
  private _windows?: Map<string, CpiWindow>;
  private _closed?: Map<string, number>;
  private _joins?: Map<string, Map<string, Pending>>;
  private _contributors?: Map<string, AudienceRecord[]>;
  private _rules?: Map<string, RuleState>;
  private _episodes?: Map<string, EpisodeRecord[]>;
  private _history?: Map<string, ValueHistory>;
  private dirtyParts?: Set<string>;
  /** Parts created since the last takeDirty and absent from the persisted state (a pair's first half). */
  private newParts?: Set<string>;
  facts = new Facts();
  private _enRoute?: AudienceRecord[];
  private _deferred?: DeferredJoin[];
  private _awaiting?: Map<number, AwaitingFacts>;
  private awaitedLast = 0;
  /** The identities of the held observations (awaitingKeyOf): a repeat of one is found at once. */
  private awaitingKeys?: Set<string>;
  /** Parts loaded in the order the store returned them: put back in arrival order on first read. */
  private awaitingUnsorted = false;

  constructor(readonly tag: string) {}

  get windows(): Map<string, CpiWindow> { return (this._windows ??= new Map()); }
  /** Per CPI: the last bucket boundary whose close was evaluated. */
  get closed(): Map<string, number> { return (this._closed ??= new Map()); }
  get joins(): Map<string, Map<string, Pending>> { return (this._joins ??= new Map()); }
  get contributors(): Map<string, AudienceRecord[]> { return (this._contributors ??= new Map()); }
  get rules(): Map<string, RuleState> { return (this._rules ??= new Map()); }
  get episodes(): Map<string, EpisodeRecord[]> { return (this._episodes ??= new Map()); }
  // (the lists below are allocated on first write too; a setter takes over the list it is given)
  /** Customers en route to this store, in arrival order of their records. */
  get enRoute(): readonly AudienceRecord[] { return this._enRoute ?? NO_RECORDS; }
  set enRoute(list: readonly AudienceRecord[]) { this._enRoute = list.length > 0 ? (list as AudienceRecord[]) : undefined; }
  /** Audience joins waiting for the rule states at their time (see DeferredJoin). */
  get deferred(): readonly DeferredJoin[] { return this._deferred ?? NO_RECORDS; }
  set deferred(list: readonly DeferredJoin[]) { this._deferred = list.length > 0 ? (list as DeferredJoin[]) : undefined; }

  /** Observations waiting for their customer's facts (see AwaitingFacts), in arrival order. */
  get awaiting(): Iterable<AwaitingFacts> {
    if (this.awaitingUnsorted && this._awaiting) this._awaiting = new Map([...this._awaiting].sort(([a], [b]) => a - b));
    this.awaitingUnsorted = false;
    return this._awaiting?.values() ?? NO_RECORDS;
  }
  get awaitingCount(): number { return this._awaiting?.size ?? 0; }

  /** Holds an observation for its customer's facts (each its own part: a busy store holds many). */
  await(item: Omit<AwaitingFacts, 'n'>): void {
    const n = ++this.awaitedLast;
    (this._awaiting ??= new Map()).set(n, { ...item, n });
    if (item.key !== undefined) (this.awaitingKeys ??= new Set()).add(awaitingKeyOf(item));
    this.touch(`a|${n}`);
  }

  /** Whether an observation of the same event, kind, CPI and time is held (a repeated event). */
  isAwaiting(item: Pick<AwaitingFacts, 'op' | 'key'>): boolean {
    return item.key !== undefined && (this.awaitingKeys?.has(awaitingKeyOf(item)) ?? false);
  }

  /** Observations no longer held (their facts were read). */
  release(items: readonly AwaitingFacts[]): void {
    for (const item of items) {
      if (!this._awaiting?.delete(item.n)) continue;
      if (item.key !== undefined) this.awaitingKeys?.delete(awaitingKeyOf(item));
      this.touch(`a|${item.n}`);
    }
    if (this._awaiting?.size === 0) { this._awaiting = undefined; this.awaitingKeys = undefined; }
  }

  defer(join: DeferredJoin): void {
    (this._deferred ??= []).push(join);
  }

  /** Read-only views that allocate nothing for an entity without any. */
  get windowsRead(): ReadonlyMap<string, CpiWindow> { return this._windows ?? NONE; }
  /** Recorded values per series "<cpi>:<aggregate>" (trends: rules/conditions.ts). */
  get historyRead(): ReadonlyMap<string, ValueHistory> { return this._history ?? NONE; }
  get closedRead(): ReadonlyMap<string, number> { return this._closed ?? NONE; }
  get rulesRead(): ReadonlyMap<string, RuleState> { return this._rules ?? NONE; }

  window(cpi: string): CpiWindow {
    let w = this.windows.get(cpi);
    if (!w) this.windows.set(cpi, (w = new CpiWindow()));
    return w;
  }

  history(series: string): ValueHistory {
    const map = (this._history ??= new Map());
    let h = map.get(series);
    if (!h) map.set(series, (h = new ValueHistory()));
    return h;
  }

  touch(part: string): void {
    (this.dirtyParts ??= new Set()).add(part);
  }

  /**
   * Applies one op at stream time `now` (null: nothing processed yet). `specs` has the window of
   * every CPI. An observation is late when it is older than `allowedLateness` before the newest event
   * time its own source had routed with it (`sourceTime`), or before stream time: so whether an
   * event counts depends only on the order of its own input partition, never on how the sources
   * interleave (closes wait for the lateness: pipeline/partition-task.ts). Audience records older than
   * their keep period are dropped on the way (on stream time).
   */
  apply(op: StateOp, now: number | null, specs: ReadonlyMap<string, CpiWindowSpec>, sourceTime: number | null = null, eventKey?: string, held = false): ApplyOutcome {
    const judged = judgedTime(now, sourceTime);
    switch (op.kind) {
      case 'sample':
        return this.observe(op.cpi, op.time, judged, specs, { value: op.value }, eventKey);
      case 'count':
        return this.observe(op.cpi, op.time, judged, specs, { num: op.num, den: op.den }, eventKey === undefined ? undefined : `${eventKey}|${op.num}${op.den}`);
      case 'start':
      case 'end':
        return this.join(op, now, judged, specs, eventKey, held);
      case 'fact':
        if (this.facts.has(op.time, op.facts)) return { status: 'duplicate' };
        this.facts.apply(op.time, op.facts);
        this.touch('f');
        return { status: 'applied' };
      case 'enroute': {
        // older than any close still to come reads (the audience is kept for keepMs of stream time)
        if (now !== null && op.time < now - op.keepMs) return { status: 'late' };
        if (repeated(this.enRoute, (r) => r.customer === op.customer && r.time === op.time && r.etaMs === op.etaMs)) return { status: 'duplicate' };
        (this._enRoute ??= []).push({ customer: op.customer, time: op.time, etaMs: op.etaMs });
        // pruned on stream time only: an op from a source ahead of the others must not drop what a
        // close that stream time has not reached yet will still read (no stream time yet: keep all)
        if (now !== null) this.enRoute = this.enRoute.filter((r) => r.time >= now - op.keepMs);
        this.touch('e');
        return { status: 'applied' };
      }
      case 'contrib': {
        if (now !== null && op.time < now - op.keepMs) return { status: 'late' };
        let list = this.contributors.get(op.cpi);
        if (!list) this.contributors.set(op.cpi, (list = []));
        if (repeated(list, (r) => r.customer === op.customer && r.time === op.time)) return { status: 'duplicate' };
        list.push({ customer: op.customer, time: op.time });
        const from = now === null ? Number.NEGATIVE_INFINITY : now - op.keepMs;
        if (list[0]!.time < from) this.contributors.set(op.cpi, list.filter((r) => r.time >= from));
        this.touch(`c|${op.cpi}`);
        return { status: 'applied' };
      }
    }
  }

  private observe(cpi: string, time: number, judged: number | null, specs: ReadonlyMap<string, CpiWindowSpec>, obs: Observation, key?: string): ApplyOutcome {
    const spec = specs.get(cpi);
    if (!spec) return { status: 'unmatched' };
    if (isLate(time, judged, spec)) return { status: 'late' };
    if (!this.window(cpi).add(time, spec, obs, key)) return { status: 'duplicate' };
    return { status: 'applied', window: { cpi, time } };
  }

  /**
   * One half of a duration. The pair's sample, at the end's time, is judged late by the half that
   * completes it (against that half's source): in time, its step is not closed yet. A pair with a
   * half held for its customer's facts (`held`) is judged against the later of its halves' times,
   * whichever of them is applied first.
   */
  private join(op: StartOp | Extract<StateOp, { kind: 'end' }>, now: number | null, judged: number | null, specs: ReadonlyMap<string, CpiWindowSpec>, eventKey: string | undefined, held: boolean): ApplyOutcome {
    let pending = this.joins.get(op.cpi);
    if (!pending) this.joins.set(op.cpi, (pending = new Map()));
    let divisorMs = 0;
    if (op.kind === 'start') {
      const d = divisorOf(op, this.facts);
      if (d === undefined) return { status: 'unmatched' };
      divisorMs = d;
    }
    // half-joined pairs far behind stream time will not be completed (no stream time yet: keep all)
    if (now !== null) evictStale(pending, Math.min(op.time, now) - 2 * op.maxPendingMs, (key) => this.touch(`j|${op.cpi}|${key}`));
    const other = pending.get(op.key);
    const part = `j|${op.cpi}|${op.key}`;
    if (!other) {
      // an end whose sample is already in its bucket: the same end again, after its pair completed
      const spec = specs.get(op.cpi);
      if (op.kind === 'end' && eventKey !== undefined && spec && this._windows?.get(op.cpi)?.has(op.time, spec, eventKey)) return { status: 'duplicate' };
      const j = held ? { j: judged } : {};
      pending.set(op.key, op.kind === 'start' ? { side: 's', time: op.time, divisorMs, ...j } : { side: 'e', time: op.time, ...(eventKey !== undefined ? { k: eventKey } : {}), ...j });
      // untouched since the last write and absent in memory: absent in the persisted state too
      if (!this.dirtyParts?.has(part)) (this.newParts ??= new Set()).add(part);
      this.touch(part);
      return { status: 'applied' };
    }
    // a second half of the same side: the same event again (same time), or a clash of keys
    if ((other.side === 's') === (op.kind === 'start')) return { status: other.time === op.time ? 'duplicate' : 'unmatched' };
    pending.delete(op.key);
    // a pair completed before its first half was written: nothing to write or delete
    if (this.newParts?.delete(part)) this.dirtyParts!.delete(part);
    else this.touch(part);
    const start = op.kind === 'start' ? { time: op.time, divisorMs } : (other as { time: number; divisorMs: number });
    const endTime = op.kind === 'end' ? op.time : other.time;
    const elapsed = endTime - start.time;
    if (elapsed < 0 || elapsed > op.maxPendingMs) return { status: 'unmatched' };
    const value = elapsed / start.divisorMs;
    // the sample is the end event's: the same end delivered again (with its start again) adds nothing
    const endKey = op.kind === 'end' ? eventKey : (other as { k?: string }).k;
    const pairJudged = other.j === undefined && !held ? judged : other.j === undefined || other.j === null ? judged : judged === null ? other.j : Math.max(judged, other.j);
    const outcome = this.observe(op.cpi, endTime, pairJudged, specs, { value }, endKey);
    return outcome.status === 'applied' ? { ...outcome, sample: value } : outcome;
  }

  /** Audience records of a kind with time in [since, until). */
  audience(kind: 'enroute' | 'contrib', cpi: string | undefined, since: number, until: number): AudienceRecord[] {
    const list = kind === 'enroute' ? this.enRoute : this.contributors.get(cpi ?? '') ?? [];
    return list.filter((r) => r.time >= since && r.time < until);
  }

  setRule(ruleId: string, state: RuleState | null): void {
    if (state === null) this.rules.delete(ruleId);
    else this.rules.set(ruleId, state);
    this.touch('m');
  }

  /** Whether the entity holds nothing worth keeping. */
  get isEmpty(): boolean {
    if ((this._rules?.size ?? 0) > 0 || this.deferred.length > 0 || this.awaitingCount > 0 || !this.facts.isEmpty || this.enRoute.length > 0) return false;
    for (const w of this._windows?.values() ?? []) if (!w.isEmpty) return false;
    for (const h of this._history?.values() ?? []) if (!h.isEmpty) return false;
    for (const j of this._joins?.values() ?? []) if (j.size > 0) return false;
    for (const c of this._contributors?.values() ?? []) if (c.length > 0) return false;
    return true;
  }

  /** The parts changed since the last call, encoded (null: deleted). Part names are listed in encodePart. */
  takeDirty(): Map<string, string | null> {
    const out = new Map<string, string | null>();
    for (const [cpi, w] of this._windows ?? []) for (const [b, v] of w.takeDirty()) out.set(`w|${cpi}|${b}`, v);
    for (const [series, h] of this._history ?? []) for (const [c, v] of h.takeDirty()) out.set(`h|${series}|${c}`, v);
    for (const part of this.dirtyParts ?? []) out.set(part, this.encodePart(part));
    this.dirtyParts = undefined;
    this.newParts = undefined;
    return out;
  }

  /**
   * Parts: m (rule states, episodes, closes, deferred joins), f (facts), e (en route), a|<n> (an observation awaiting facts),
   * c|<audience> (contributors), w|<cpi>|<bucket> (a window bucket), j|<cpi>|<key> (a pending half),
   * h|<cpi>:<aggregate>|<chunk> (an hour of recorded values: windows/value-history.ts).
   */
  private encodePart(part: string): string | null {
    if (part === 'm') {
      if ((this._rules?.size ?? 0) === 0 && (this._closed?.size ?? 0) === 0 && this.deferred.length === 0 && (this._episodes?.size ?? 0) === 0) return null;
      return JSON.stringify({ r: Object.fromEntries(this._rules ?? []), x: Object.fromEntries(this._episodes ?? []), k: Object.fromEntries(this._closed ?? []), q: this.deferred });
    }
    if (part === 'f') return this.facts.isEmpty ? null : this.facts.encode();
    if (part === 'e') return this.enRoute.length === 0 ? null : JSON.stringify(this.enRoute);
    const [kind, cpi, ...rest] = part.split('|');
    if (kind === 'a') {
      const item = this._awaiting?.get(Number(cpi));
      return item ? JSON.stringify(item) : null;
    }
    if (kind === 'c') {
      const list = this.contributors.get(cpi!) ?? [];
      return list.length === 0 ? null : JSON.stringify(list);
    }
    if (kind === 'j') {
      const p = this.joins.get(cpi!)?.get(rest.join('|'));
      return p ? JSON.stringify(p) : null;
    }
    return null;
  }

  /** Restores one persisted part (see encodePart). */
  loadPart(part: string, value: string): void {
    if (part === 'm') {
      const m = JSON.parse(value) as { r: Record<string, RuleState>; x: Record<string, EpisodeRecord[]>; k: Record<string, number>; q: DeferredJoin[] };
      for (const [k, v] of Object.entries(m.r)) this.rules.set(k, v);
      for (const [k, v] of Object.entries(m.x)) this.episodes.set(k, v);
      for (const [k, v] of Object.entries(m.k)) this.closed.set(k, v);
      this.deferred = m.q;
      return;
    }
    if (part === 'f') { this.facts = Facts.decode(value); return; }
    if (part === 'e') { this.enRoute = JSON.parse(value) as AudienceRecord[]; return; }
    const [kind, cpi, ...rest] = part.split('|');
    if (kind === 'c') this.contributors.set(cpi!, JSON.parse(value) as AudienceRecord[]);
    else if (kind === 'a') {
      const item = JSON.parse(value) as AwaitingFacts;
      (this._awaiting ??= new Map()).set(item.n, item);
      if (item.key !== undefined) (this.awaitingKeys ??= new Set()).add(awaitingKeyOf(item));
      this.awaitedLast = Math.max(this.awaitedLast, item.n);
      this.awaitingUnsorted = true;
    }
    else if (kind === 'w') this.window(cpi!).load(Number(rest[0]), value);
    else if (kind === 'h') this.history(cpi!).load(Number(rest[0]), value);
    else if (kind === 'j') {
      let pending = this.joins.get(cpi!);
      if (!pending) this.joins.set(cpi!, (pending = new Map()));
      pending.set(rest.join('|'), JSON.parse(value) as Pending);
    }
  }
}

/** A held observation's identity: its event, kind, CPI and time. */
function awaitingKeyOf(item: Pick<AwaitingFacts, 'op' | 'key'>): string {
  return `${item.key}\u0000${item.op.kind}\u0000${item.op.cpi}\u0000${item.op.time}`;
}

/**
 * Whether one of the newest records is the same again (a repeat comes soon after the original: a
 * producer's retry, a stream published twice in a row). Bounded: audiences of busy stores are long,
 * and a repeat found late only adds a record whose candidates the ledger holds already.
 */
function repeated(list: readonly AudienceRecord[], same: (r: AudienceRecord) => boolean): boolean {
  for (let i = list.length - 1; i >= 0 && i >= list.length - 256; i--) if (same(list[i]!)) return true;
  return false;
}

/** The divisor of a start: its own, else the entity's fact (seconds) as of the start, else the fallback. */
function divisorOf(op: StartOp, facts: Facts): number | undefined {
  if (op.divisorMs !== null) return op.divisorMs;
  const fact = op.divisorFact !== undefined ? facts.valueAt(op.time, op.divisorFact) : undefined;
  if (typeof fact === 'number' && Number.isFinite(fact) && fact >= 0.001) return fact * 1000;
  return op.fallbackDivisorMs;
}

/** Drops halves that waited far longer than any partner could need (oldest first, a few at a time). */
function evictStale(pending: Map<string, Pending>, cutoff: number, onDelete: (key: string) => void): void {
  let n = 0;
  for (const [key, p] of pending) {
    if (p.time >= cutoff || n >= MAX_EVICT) break;
    pending.delete(key);
    onDelete(key);
    n++;
  }
}
