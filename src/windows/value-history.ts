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
import { lowerBound } from '../shared/lower-bound.js';

export interface HistoryPoint { at: number; value: number; samples: number }

/** Event time per chunk. */
export const HISTORY_CHUNK_MS = 3_600_000;

/** An hour of recorded values, in close order: offsets in the hour (ms), values, sample counts. */
interface Chunk { at: number[]; value: number[]; samples: number[] }

export class ValueHistory {
  // parallel arrays of plain numbers (about 24 bytes a close) rather than an object per close
  private readonly chunks = new Map<number, Chunk>();
  private readonly dirty = new Set<number>();

  /** Records the value at close `at` (a repeat of the same close overwrites it). */
  record(at: number, value: number, samples: number): void {
    const c = Math.floor(at / HISTORY_CHUNK_MS);
    let chunk = this.chunks.get(c);
    if (!chunk) this.chunks.set(c, (chunk = { at: [], value: [], samples: [] }));
    const offset = at - c * HISTORY_CHUNK_MS;
    const i = lowerBound(chunk.at, offset);
    if (i < chunk.at.length && chunk.at[i] === offset) {
      if (chunk.value[i] === value && chunk.samples[i] === samples) return;
      chunk.value[i] = value;
      chunk.samples[i] = samples;
    } else if (i === chunk.at.length) {
      chunk.at.push(offset);
      chunk.value.push(value);
      chunk.samples.push(samples);
    } else {
      chunk.at.splice(i, 0, offset);
      chunk.value.splice(i, 0, value);
      chunk.samples.splice(i, 0, samples);
    }
    this.dirty.add(c);
  }

  /** The value recorded at close `at`, if any. */
  point(at: number): HistoryPoint | undefined {
    const c = Math.floor(at / HISTORY_CHUNK_MS);
    const chunk = this.chunks.get(c);
    if (!chunk) return undefined;
    const i = lowerBound(chunk.at, at - c * HISTORY_CHUNK_MS);
    return chunk.at[i] === at - c * HISTORY_CHUNK_MS ? { at, value: chunk.value[i]!, samples: chunk.samples[i]! } : undefined;
  }

  /** The values recorded at closes in [from, until), in time order. */
  points(from: number, until: number): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    this.each(from, until, (at, value, samples) => out.push({ at, value, samples }));
    return out;
  }

  /** Calls `f` for each close recorded in [from, until), in time order (no object per close). */
  each(from: number, until: number, f: (at: number, value: number, samples: number) => void): void {
    if (until <= from) return;
    const last = Math.floor((until - 1) / HISTORY_CHUNK_MS);
    for (let c = Math.floor(from / HISTORY_CHUNK_MS); c <= last; c++) {
      const chunk = this.chunks.get(c);
      if (!chunk) continue;
      const base = c * HISTORY_CHUNK_MS;
      for (let i = lowerBound(chunk.at, from - base); i < chunk.at.length && base + chunk.at[i]! < until; i++) f(base + chunk.at[i]!, chunk.value[i]!, chunk.samples[i]!);
    }
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

  /** The chunks changed since the last call: index to encoded chunk, [[at, value, samples], ...] (null: deleted). */
  takeDirty(): Map<number, string | null> {
    const out = new Map<number, string | null>();
    for (const c of this.dirty) {
      const chunk = this.chunks.get(c);
      out.set(c, chunk ? JSON.stringify(chunk.at.map((o, i) => [c * HISTORY_CHUNK_MS + o, chunk.value[i], chunk.samples[i]])) : null);
    }
    this.dirty.clear();
    return out;
  }

  /** Restores a persisted chunk (see takeDirty). */
  load(index: number, encoded: string): void {
    const rows = (JSON.parse(encoded) as [number, number, number][]).sort((a, b) => a[0] - b[0]);
    this.chunks.set(index, { at: rows.map((r) => r[0] - index * HISTORY_CHUNK_MS), value: rows.map((r) => r[1]), samples: rows.map((r) => r[2]) });
  }
}
