/**
 * The recorded values of one aggregate of one CPI in one scope: at each close, the aggregate's value
 * and its number of samples (rules/conditions.ts reads them for trends: "30 % worse than the same
 * hour yesterday"). A number pair per step instead of the buckets themselves: a day of 1-minute
 * closes is 1,440 pairs, where keeping the buckets (with their sketch bins) would cost megabytes
 * per scope. Closes whose window held nothing record nothing: no value then, so no baseline.
 *
 * Kept in chunks of one hour of event time, so a batch persists only the chunks it changed
 * (entities/entity-state.ts, parts h|<series>|<chunk>). Pure; times are arguments.
 */

export interface HistoryPoint { at: number; value: number; samples: number }

/** Event time per chunk. */
export const HISTORY_CHUNK_MS = 3_600_000;

export class ValueHistory {
  private readonly chunks = new Map<number, Map<number, [number, number]>>();
  private readonly dirty = new Set<number>();

  /** Records the value at close `at` (a repeat of the same close overwrites it). */
  record(at: number, value: number, samples: number): void {
    const c = Math.floor(at / HISTORY_CHUNK_MS);
    let chunk = this.chunks.get(c);
    if (!chunk) this.chunks.set(c, (chunk = new Map()));
    const old = chunk.get(at);
    if (old && old[0] === value && old[1] === samples) return;
    chunk.set(at, [value, samples]);
    this.dirty.add(c);
  }

  /** The value recorded at close `at`, if any. */
  point(at: number): HistoryPoint | undefined {
    const p = this.chunks.get(Math.floor(at / HISTORY_CHUNK_MS))?.get(at);
    return p ? { at, value: p[0], samples: p[1] } : undefined;
  }

  /** The values recorded at closes in [from, until), in time order. */
  points(from: number, until: number): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    if (until <= from) return out;
    const last = Math.floor((until - 1) / HISTORY_CHUNK_MS);
    for (let c = Math.floor(from / HISTORY_CHUNK_MS); c <= last; c++) {
      const chunk = this.chunks.get(c);
      if (!chunk) continue;
      for (const [at, [value, samples]] of chunk) if (at >= from && at < until) out.push({ at, value, samples });
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** Drops the chunks wholly before `time` (no trend looks back that far). */
  pruneBefore(time: number): void {
    const first = Math.floor(time / HISTORY_CHUNK_MS);
    for (const c of this.chunks.keys()) {
      if (c < first) {
        this.chunks.delete(c);
        this.dirty.add(c);
      }
    }
  }

  get isEmpty(): boolean {
    return this.chunks.size === 0;
  }

  /** The chunks changed since the last call: index to encoded chunk (null: deleted). */
  takeDirty(): Map<number, string | null> {
    const out = new Map<number, string | null>();
    for (const c of this.dirty) {
      const chunk = this.chunks.get(c);
      out.set(c, chunk ? JSON.stringify([...chunk].map(([at, [v, n]]) => [at, v, n])) : null);
    }
    this.dirty.clear();
    return out;
  }

  /** Restores a persisted chunk (see takeDirty). */
  load(index: number, encoded: string): void {
    const rows = JSON.parse(encoded) as [number, number, number][];
    this.chunks.set(index, new Map(rows.map(([at, v, n]) => [at, [v, n]])));
  }
}
