/**
 * The order of decisions across owner partitions. A customer's candidates may come from several
 * owner partitions (two stores on two partitions); cooldowns, caps and budgets decide them in event
 * time order in a backtest, so `run` must too, whoever runs first. Each owner partition publishes,
 * after every batch, its stream time and the time of its earliest undecided candidate (its head);
 * a partition decides a candidate at time t only when
 *
 *   - every owner partition's stream time is past t (every candidate at or before t exists), and
 *   - no other partition has an undecided candidate before t (at equal times the lower partition
 *     number goes first),
 *
 * which is a merge of the partitions' candidate queues in event-time order: the partition holding
 * the earliest candidate can always go on, so nothing waits for ever. Pure: where the entries are
 * kept is the adapter's business (store/redis/frontier.ts; in memory for one process).
 */

export interface FrontierEntry {
  /** The partition's stream time (null: not started). */
  now: number | null;
  /** Earliest undecided candidate (+Infinity: none). */
  head: number;
}

/** Candidates of partition `p` with time strictly below the returned bound may be decided now. */
export function decisionBound(p: number, partitions: number, entries: ReadonlyMap<number, FrontierEntry>): number {
  let bound = Number.POSITIVE_INFINITY;
  for (let q = 0; q < partitions; q++) {
    const e = entries.get(q);
    if (!e || e.now === null) return Number.NEGATIVE_INFINITY;
    bound = Math.min(bound, e.now);
    if (q === p) continue;
    // at equal times the lower partition decides first: a later one waits until it has
    bound = Math.min(bound, q > p ? e.head + 0.5 : e.head);
  }
  return bound;
}

export function encodeFrontierEntry(e: FrontierEntry): string {
  return JSON.stringify({ n: e.now, h: Number.isFinite(e.head) ? e.head : null });
}

export function decodeFrontierEntry(s: string): FrontierEntry {
  const v = JSON.parse(s) as { n: number | null; h: number | null };
  return { now: v.n, head: v.h === null ? Number.POSITIVE_INFINITY : v.h };
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
