/**
 * The in-memory state store: the same semantics as the Redis Lua scripts, in process. Used by
 * backtests and rule unit tests; passes the same contract suite as the Redis store.
 */
import { bucketOf, isLate, windowBuckets } from '../../windows/buckets.js';
import { binOf } from '../../windows/sketch.js';
import { mergeBucket } from '../../windows/cpi-window.js';
import type {
  AudienceMember, AudienceQuery, CpiWindowSpec, FactValue, LedgerVerdict, OfferCandidate, OpStatus,
  RuleState, StartOp, StateOp, StateStore, TagBatch, TagResult, WindowSnapshot,
} from '../state-store.js';
import { decideCandidate, type DecisionState } from './decide.js';

interface Bucket { count: number; sum: number; min: number; max: number; num: number; den: number; bins: Map<string, number> }
interface CpiWindow { watermark: number | null; buckets: Map<number, Bucket> }
type Pending = { side: 'start'; time: number; divisorMs: number; maxPendingMs: number } | { side: 'end'; time: number; maxPendingMs: number };

class TagState {
  applied = new Map<string, number>();
  windows = new Map<string, CpiWindow>();
  pending = new Map<string, Map<string, Pending>>();
  facts: { time: number; values: Record<string, FactValue> } | null = null;
  enRoute = new Map<string, { time: number; etaMs: number }>();
  contributors = new Map<string, Map<string, number>>();
  ruleStates = new Map<string, RuleState>();
  /** Closes whose rule states are not saved yet (mirrors the Redis crash journal :pclose). */
  pendingCloses: WindowSnapshot[] = [];

  window(cpi: string): CpiWindow {
    let w = this.windows.get(cpi);
    if (!w) this.windows.set(cpi, (w = { watermark: null, buckets: new Map() }));
    return w;
  }

  pendingOf(cpi: string): Map<string, Pending> {
    let p = this.pending.get(cpi);
    if (!p) this.pending.set(cpi, (p = new Map()));
    return p;
  }
}

/** The divisor of a start: its own, else the tag's fact (seconds), else the fallback; undefined: none. */
function divisorOf(op: StartOp, facts: Record<string, FactValue> | undefined): number | undefined {
  if (op.divisorMs !== null) return op.divisorMs;
  const fact = op.divisorFact !== undefined ? facts?.[op.divisorFact] : undefined;
  if (typeof fact === 'number' && Number.isFinite(fact) && fact >= 0.001) return fact * 1000;
  return op.fallbackDivisorMs;
}

/** Drops halves that waited far longer than any partner could need (oldest first, at most 50). */
function evictStale(pending: Map<string, Pending>, cutoff: number): void {
  let n = 0;
  for (const [key, p] of pending) {
    if (p.time >= cutoff || n >= 50) break;
    pending.delete(key);
    n++;
  }
}

function emptyBucket(): Bucket {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, num: 0, den: 0, bins: new Map() };
}

export class MemoryStore implements StateStore {
  private readonly tags = new Map<string, TagState>();
  private readonly decisions: DecisionState = { ledger: new Map(), history: new Map(), budgets: new Map() };

  private tag(tag: string): TagState {
    let t = this.tags.get(tag);
    if (!t) this.tags.set(tag, (t = new TagState()));
    return t;
  }

  async applyOps(batches: TagBatch[]): Promise<TagResult[]> {
    return batches.map((b) => this.applyTag(b));
  }

  private applyTag(batch: TagBatch): TagResult {
    const state = this.tag(batch.tag);
    const specs = new Map(batch.cpis.map((s) => [s.cpi, s]));
    const appliedBefore = state.applied.get(batch.source) ?? -1;
    let appliedAfter = appliedBefore;
    const statuses: OpStatus[] = [];
    const samples: Record<number, number> = {};
    const closes: WindowSnapshot[] = [];
    const add: AddToWindow = (cpi, time, obs) => addToWindow(state, specs, cpi, time, obs, closes);

    batch.ops.forEach((op, i) => {
      if (op.offset <= appliedBefore) { statuses.push('duplicate'); return; }
      appliedAfter = Math.max(appliedAfter, op.offset);
      statuses.push(this.applyOp(state, add, op, (v) => { samples[i] = v; }));
    });
    if (appliedAfter > appliedBefore) state.applied.set(batch.source, appliedAfter);

    const snapshots: WindowSnapshot[] = [];
    for (const spec of batch.readCurrent ? batch.cpis : []) {
      const w = state.windows.get(spec.cpi);
      if (w && w.watermark !== null) snapshots.push(snapshotOf(spec, w, w.watermark));
    }
    // facts only: no closes, no rule states (see TagResult); the journal waits for a window op
    if (!batch.readCurrent && batch.ops.length > 0 && batch.ops.every((op) => op.kind === 'fact')) return { tag: batch.tag, statuses, samples, closes: [], snapshots, ruleStates: {} };
    const pending = state.pendingCloses;
    state.pendingCloses = [...pending, ...closes];
    return { tag: batch.tag, statuses, samples, closes: [...pending, ...closes], snapshots, ruleStates: Object.fromEntries(state.ruleStates) };
  }

  private applyOp(state: TagState, add: AddToWindow, op: StateOp, onSample: (v: number) => void): OpStatus {
    switch (op.kind) {
      case 'sample':
        return add(op.cpi, op.time, { value: op.value });
      case 'count':
        return add(op.cpi, op.time, { num: op.num, den: op.den });
      case 'start':
      case 'end': {
        const pending = state.pendingOf(op.cpi);
        const divisorMs = op.kind === 'start' ? divisorOf(op, state.facts?.values) : 0;
        if (divisorMs === undefined) return 'unmatched';
        evictStale(pending, op.time - 2 * op.maxPendingMs);
        const other = pending.get(op.key);
        if (!other) {
          pending.set(op.key, op.kind === 'start'
            ? { side: 'start', time: op.time, divisorMs, maxPendingMs: op.maxPendingMs }
            : { side: 'end', time: op.time, maxPendingMs: op.maxPendingMs });
          return 'applied';
        }
        if (other.side === op.kind) return 'unmatched';
        pending.delete(op.key);
        const start = op.kind === 'start' ? { time: op.time, divisorMs } : (other as { time: number; divisorMs: number });
        const endTime = op.kind === 'end' ? op.time : other.time;
        const elapsed = endTime - start.time;
        if (elapsed < 0 || elapsed > op.maxPendingMs) return 'unmatched';
        const value = elapsed / start.divisorMs;
        const status = add(op.cpi, endTime, { value });
        if (status === 'applied') onSample(value);
        return status;
      }
      case 'fact': {
        if (state.facts && op.time < state.facts.time) return 'late';
        state.facts = { time: op.time, values: { ...(state.facts?.values ?? {}), ...op.facts } };
        return 'applied';
      }
      case 'enroute': {
        const prev = state.enRoute.get(op.customer);
        if (prev && op.time < prev.time) return 'late';
        state.enRoute.set(op.customer, { time: op.time, etaMs: op.etaMs });
        return 'applied';
      }
      case 'contrib': {
        let m = state.contributors.get(op.cpi);
        if (!m) state.contributors.set(op.cpi, (m = new Map()));
        m.set(op.customer, Math.max(m.get(op.customer) ?? -Infinity, op.time));
        return 'applied';
      }
    }
  }

  async saveRuleStates(updates: { tag: string; states: Record<string, RuleState | null> }[]): Promise<void> {
    for (const u of updates) {
      const t = this.tag(u.tag);
      t.pendingCloses = [];
      for (const [rule, s] of Object.entries(u.states)) {
        if (s === null) t.ruleStates.delete(rule);
        else t.ruleStates.set(rule, { ...s });
      }
    }
  }

  async readAudience(queries: AudienceQuery[]): Promise<AudienceMember[][]> {
    return queries.map((q) => {
      const t = this.tags.get(q.tag);
      if (!t) return [];
      const out: AudienceMember[] = [];
      if (q.kind === 'enroute') {
        for (const [customer, e] of t.enRoute) if (e.time >= q.since && e.time <= q.until) out.push({ customer, time: e.time, etaMs: e.etaMs });
      } else {
        for (const [customer, time] of t.contributors.get(q.cpi ?? '') ?? []) if (time >= q.since && time <= q.until) out.push({ customer, time });
      }
      return out.sort((a, b) => a.time - b.time || (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0));
    });
  }

  async readFacts(tags: string[]): Promise<(Record<string, FactValue> | null)[]> {
    return tags.map((t) => {
      const f = this.tags.get(t)?.facts;
      return f ? { ...f.values } : null;
    });
  }

  async decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]> {
    return candidates.map((c) => decideCandidate(this.decisions, c));
  }

  async markPublished(offerIds: string[]): Promise<void> {
    for (const id of offerIds) {
      const entry = this.decisions.ledger.get(id);
      if (entry) entry.published = true;
    }
  }

  async readLedger(offerIds: string[]): Promise<(LedgerVerdict | null)[]> {
    return offerIds.map((id) => {
      const e = this.decisions.ledger.get(id);
      return e ? { offerId: id, outcome: e.outcome, ...(e.reason ? { reason: e.reason } : {}), replay: false, published: e.published } : null;
    });
  }

  async close(): Promise<void> {}
}

type Observation = { value: number } | { num: 0 | 1; den: 0 | 1 };
type AddToWindow = (cpi: string, time: number, obs: Observation) => OpStatus;

function addToWindow(
  state: TagState, specs: Map<string, CpiWindowSpec>, cpi: string, time: number, obs: Observation,
  closes: WindowSnapshot[],
): OpStatus {
  const spec = specs.get(cpi);
  if (!spec) throw new Error(`no window spec for CPI ${cpi} in batch`);
  const w = state.window(cpi);
  if (isLate(time, w.watermark, spec)) return 'late';
  const b = bucketOf(time, spec.resolutionMs);
  if (w.watermark !== null && b > bucketOf(w.watermark, spec.resolutionMs)) {
    closes.push(snapshotOf(spec, w, (bucketOf(w.watermark, spec.resolutionMs) + 1) * spec.resolutionMs));
  }
  let bucket = w.buckets.get(b);
  if (!bucket) w.buckets.set(b, (bucket = emptyBucket()));
  if ('value' in obs) {
    bucket.count += 1;
    bucket.sum += obs.value;
    bucket.min = Math.min(bucket.min, obs.value);
    bucket.max = Math.max(bucket.max, obs.value);
    const bin = binOf(obs.value);
    bucket.bins.set(bin, (bucket.bins.get(bin) ?? 0) + 1);
  } else {
    bucket.num += obs.num;
    bucket.den += obs.den;
  }
  if (w.watermark === null || time > w.watermark) {
    w.watermark = time;
    const { first } = windowBuckets(time, spec.resolutionMs, spec.buckets);
    for (const key of w.buckets.keys()) if (key < first) w.buckets.delete(key);
  }
  return 'applied';
}

function snapshotOf(spec: CpiWindowSpec, w: CpiWindow, at: number): WindowSnapshot {
  const snap: WindowSnapshot = { cpi: spec.cpi, watermark: w.watermark!, at, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {} };
  const { first, last } = windowBuckets(w.watermark!, spec.resolutionMs, spec.buckets);
  for (let b = first; b <= last; b++) {
    const bucket = w.buckets.get(b);
    if (bucket) mergeBucket(snap, bucket);
  }
  return snap;
}
