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

export interface FrontierEntry {
  /** The partition's stream time (null: not started). */
  now: number | null;
  /** Customer id -> time of the partition's earliest undecided candidate for them. */
  pending: ReadonlyMap<string, number>;
}

/** What partition `p` may decide now: candidates before `before` whose customer no other partition holds back. */
export interface DecisionGate {
  before: number;
  blocked(customerId: string, time: number): boolean;
}

export function decisionGate(p: number, partitions: number, entries: ReadonlyMap<number, FrontierEntry>): DecisionGate {
  let before = Number.POSITIVE_INFINITY;
  const others: [number, FrontierEntry][] = [];
  for (let q = 0; q < partitions; q++) {
    const e = entries.get(q);
    if (!e || e.now === null) return { before: Number.NEGATIVE_INFINITY, blocked: () => true };
    before = Math.min(before, e.now);
    if (q !== p && e.pending.size > 0) others.push([q, e]);
  }
  return {
    before,
    blocked: (customerId, time) => others.some(([q, e]) => {
      const t = e.pending.get(customerId);
      return t !== undefined && (t < time || (t === time && q < p));
    }),
  };
}

export function encodeFrontierEntry(e: FrontierEntry): string {
  return JSON.stringify({ n: e.now, c: Object.fromEntries(e.pending) });
}

export function decodeFrontierEntry(s: string): FrontierEntry {
  const v = JSON.parse(s) as { n: number | null; c?: Record<string, number> };
  return { now: v.n, pending: new Map(Object.entries(v.c ?? {})) };
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
