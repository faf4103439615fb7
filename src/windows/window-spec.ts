/** A CPI's window as the engine needs it, and a window's merged content at one evaluation time. */

export interface CpiWindowSpec {
  cpi: string;
  resolutionMs: number;
  /** Number of buckets in the window (window / resolution). */
  buckets: number;
  latenessMs: number;
}

/** A CPI's window as merged buckets. */
export interface WindowSnapshot {
  cpi: string;
  /** The evaluation time: the bucket boundary whose close is evaluated (or the stream time of a current read). */
  at: number;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  num: number;
  den: number;
  /** Sketch bins: index (see windows/sketch.ts) to count. */
  bins: Record<string, number>;
}

/** The window of a CPI (a compiled CPI of rules/compiled.ts has these fields). */
export function windowSpecOf(cpi: { id: string; resolutionMs: number; windowMs: number; latenessMs: number }): CpiWindowSpec {
  return {
    cpi: cpi.id,
    resolutionMs: cpi.resolutionMs,
    buckets: Math.max(1, Math.round(cpi.windowMs / cpi.resolutionMs)),
    latenessMs: cpi.latenessMs,
  };
}

/** The snapshot of a window that holds nothing. */
export function emptySnapshot(cpi: string, at: number): WindowSnapshot {
  return { cpi, at, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {} };
}
