import type { PersistedMeta } from './partition-task.js';

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
