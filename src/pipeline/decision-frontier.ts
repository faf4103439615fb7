/**
 * The order of decisions across owner partitions. Cooldowns, customer cooldowns and frequency caps
 * are per customer, and a customer's candidates may come from several owner partitions (two stores
 * on two partitions); a backtest decides them in event-time order, so `run` must too, whoever runs
 * first. (Budgets are per rule and scope, and a scope's candidates all come from its one owner, which
 * decides them in order.) Each owner partition publishes, after every batch, its stream time and the
 * earliest undecided candidate time of each customer it holds candidates for; a partition decides
 * its candidate of customer c at time t only when
 *
 *   - every owner partition's stream time is past t (every candidate at or before t exists), and
 *   - no other partition holds an undecided candidate of c before t (at equal times the lower
 *     partition number goes first),
 *
 * and, within the partition, not before its own earlier candidates of the same customer or of the
 * same rule and scope. So only candidates of one customer wait on each other across partitions (the
 * partition holding the customer's earliest always goes on: nothing waits for ever), and the others
 * go as soon as stream time has passed them. Pure: where the entries are kept is the adapter's
 * business (store/redis/frontier.ts; in memory for one process).
 */
import { compareDecisionKeys, type DecisionKey } from './candidate-queue.js';

export interface FrontierEntry {
  /** The partition's stream time (null: not started). */
  now: number | null;
  /**
   * Every candidate of the partition before this time exists (absent: `now`). Earlier than `now`
   * while a close waits for customer facts (pipeline/fact-checks.ts).
   */
  settled?: number;
  /**
   * Customer id -> the partition's earliest undecided candidate for them: its place in the decision
   * order (candidate-queue.ts), or only its due time (entries of earlier versions).
   */
  pending: ReadonlyMap<string, DecisionKey | number>;
}

/** What partition `p` may decide now: candidates before `before` whose customer no other partition holds back. */
export interface DecisionGate {
  before: number;
  /** Every partition's stream time is past this: customers' facts as of earlier times are final. */
  factsFinal: number;
  blocked(customerId: string, candidate: DecisionKey | number): boolean;
}

export function decisionGate(p: number, partitions: number, entries: ReadonlyMap<number, FrontierEntry>): DecisionGate {
  let before = Number.POSITIVE_INFINITY;
  let factsFinal = Number.POSITIVE_INFINITY;
  const others: [number, FrontierEntry][] = [];
  for (let q = 0; q < partitions; q++) {
    const e = entries.get(q);
    if (!e || e.now === null) return { before: Number.NEGATIVE_INFINITY, factsFinal: Number.NEGATIVE_INFINITY, blocked: () => true };
    before = Math.min(before, e.settled ?? e.now);
    factsFinal = Math.min(factsFinal, e.now);
    if (q !== p && e.pending.size > 0) others.push([q, e]);
  }
  return {
    before,
    factsFinal,
    blocked: (customerId, candidate) => others.some(([q, e]) => {
      const t = e.pending.get(customerId);
      if (t === undefined) return false;
      // ties as one queue breaks them (by scope, which one partition owns); of a due time alone, the lower partition first
      const order = typeof t === 'number' || typeof candidate === 'number'
        ? (typeof t === 'number' ? t : t[0]) - (typeof candidate === 'number' ? candidate : candidate[0])
        : compareDecisionKeys(t, candidate);
      return order < 0 || (order === 0 && q < p);
    }),
  };
}

export function encodeFrontierEntry(e: FrontierEntry): string {
  return JSON.stringify({ n: e.now, ...(e.settled !== undefined ? { s: e.settled } : {}), c: Object.fromEntries(e.pending) });
}

export function decodeFrontierEntry(s: string): FrontierEntry {
  const v = JSON.parse(s) as { n: number | null; s?: number; c?: Record<string, number | DecisionKey> };
  return { now: v.n, ...(typeof v.s === 'number' ? { settled: v.s } : {}), pending: new Map(Object.entries(v.c ?? {})) };
}

/** Where the entries live: Redis for `run` (store/redis/frontier.ts), a Map in one process. */
export interface FrontierPort {
  read(): Promise<Map<number, FrontierEntry>>;
  write(partition: number, entry: FrontierEntry): Promise<void>;
}

export class MemoryFrontier implements FrontierPort {
  private readonly entries = new Map<number, FrontierEntry>();

  async read(): Promise<Map<number, FrontierEntry>> {
    return new Map(this.entries);
  }

  async write(partition: number, entry: FrontierEntry): Promise<void> {
    this.entries.set(partition, entry);
  }
}
