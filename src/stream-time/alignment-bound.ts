/** The alignment bound a rule set allows (see stream-time/alignment.ts and ALIGNMENT_BOUND). */
import type { RuleSet } from '../rules/compiled.js';
import { parseDuration } from '../shared/duration.js';

/**
 * The bound in ms, or null (off): at most the smallest allowedLateness, off when that is 0. `auto`
 * takes half of it: an event may trail the partition it came in by the other half (disorder within
 * a partition) and still be in time at an entity whose other partitions ran up to the bound ahead.
 */
export function alignmentBoundOf(setting: string, ruleSet: RuleSet): number | null {
  if (setting === 'off') return null;
  let smallest = Number.POSITIVE_INFINITY;
  for (const cpi of ruleSet.cpis.values()) smallest = Math.min(smallest, cpi.latenessMs);
  if (smallest === Number.POSITIVE_INFINITY || smallest <= 0) return null;
  const wanted = setting === 'auto' ? smallest / 2 : parseDuration(setting) ?? smallest;
  return Math.min(wanted, smallest);
}
