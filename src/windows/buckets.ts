/**
 * Sliding windows as time buckets. A window of size W and resolution R is the last W / R buckets of
 * width R ending with the bucket that holds "now" (the newest event time seen). Event time, never
 * arrival time: "now" is passed in.
 */
import type { CompiledCpi } from '../rules/compiled.js';
import type { CpiWindowSpec } from '../store/state-store.js';

export function bucketOf(time: number, resolutionMs: number): number {
  return Math.floor(time / resolutionMs);
}

/** First and last bucket (inclusive) of the window ending at `now`. */
export function windowBuckets(now: number, resolutionMs: number, buckets: number): { first: number; last: number } {
  const last = bucketOf(now, resolutionMs);
  return { first: last - buckets + 1, last };
}

/**
 * Whether an event at `time` is too late to apply, given the newest time seen (`watermark`):
 * older than watermark - lateness, or its bucket has already slid out of the window.
 */
export function isLate(time: number, watermark: number | null, spec: CpiWindowSpec): boolean {
  if (watermark === null) return false;
  if (time < watermark - spec.latenessMs) return true;
  return bucketOf(time, spec.resolutionMs) < windowBuckets(watermark, spec.resolutionMs, spec.buckets).first;
}

export function windowSpecOf(cpi: CompiledCpi): CpiWindowSpec {
  return {
    cpi: cpi.id,
    resolutionMs: cpi.resolutionMs,
    buckets: Math.max(1, Math.round(cpi.windowMs / cpi.resolutionMs)),
    latenessMs: cpi.latenessMs,
    ttlMs: cpi.windowMs + cpi.latenessMs + cpi.resolutionMs,
  };
}
