/**
 * When an owner partition's closes run (pipeline/partition-task.ts): whether the close of a group at
 * a boundary can evaluate differently from the last one, and, after it, the next boundary that can
 * (stream-time/next-close.ts), with the windows' eviction that goes with it. A group with trends
 * closes every step while a window holds data or a rule state is live: its rules read the value
 * recorded a period earlier. A CPI of the group with no window in the scope has no data: nothing
 * of it changes, and no window is made for it.
 */
import type { EntityState } from '../entities/entity-state.js';
import type { CloseGroup } from '../rules/close-groups.js';
import { changedSince, nextCloseAt } from '../stream-time/next-close.js';
import { bucketOf, firstBucketBefore } from '../windows/cpi-window.js';
import type { CpiWindowSpec } from '../windows/window-spec.js';
import { pendingOf } from './close-helpers.js';

/** A scope with no window for a CPI: no data anywhere. */
const NO_DATA = { firstDataFrom: (): number | undefined => undefined };

/**
 * Whether the close of `g` at `at` must evaluate: a close at a boundary where nothing changed since
 * the last one (here only for a join waiting on it) would evaluate to what that one did, and whether
 * it runs depends on when the join arrived; so it evaluates only if something changed, the rules
 * changed since (`epoch`), or the group has trends.
 */
export function mustEvaluate(e: EntityState, g: CloseGroup, specs: ReadonlyMap<string, CpiWindowSpec>, at: number, epoch: number): boolean {
  const last = e.closedRead.get(g.id);
  if (g.series.size > 0 || last === undefined) return true;
  const windows = g.cpis.map((cpi) => e.windowsRead.get(cpi));
  if (windows.every((w) => w === undefined) || windows.some((w) => w !== undefined && w.evaluatedEpoch !== epoch)) return true;
  const pending = pendingOf(e, g);
  return g.cpis.some((cpi, i) => windows[i] !== undefined && changedSince(windows[i], specs.get(cpi)!, last, at, pending));
}

/**
 * After the close of `g` at `at`: the next boundary whose close can change anything (a bucket with
 * data comes in or leaves a window of the group, a pending breach reaches its `for`, a waiting join
 * is ready at `joinAt`; Infinity: none), and each window evicted of what no later window holds
 * (this window's buckets are kept: the next close tells from them whether anything changed).
 */
export function scheduleAfterClose(e: EntityState, g: CloseGroup, specs: ReadonlyMap<string, CpiWindowSpec>, at: number, live: boolean, joinAt: number): { next: number; allEmpty: boolean } {
  const everyStep = g.series.size > 0;
  const pending = pendingOf(e, g);
  let next = Infinity;
  let allEmpty = true;
  let any = false;
  for (const cpi of g.cpis) {
    const spec = specs.get(cpi)!;
    const w = e.windowsRead.get(cpi);
    if (!w) continue;
    any = true;
    if (everyStep) {
      const data = w.firstDataFrom(firstBucketBefore(at + spec.resolutionMs, spec));
      const step = at + spec.resolutionMs;
      next = Math.min(next, live ? step : Math.max(step, Math.min(data === undefined ? Infinity : (data + 1) * spec.resolutionMs, joinAt)));
    } else {
      next = Math.min(next, nextCloseAt(w, spec, at, pending, joinAt));
    }
    w.evictBefore(firstBucketBefore(at, spec));
    // the steps before `at` are final: a repeat of their events is late now, their keys can go
    w.forgetKeysBefore(bucketOf(at, spec.resolutionMs));
    if (!w.isEmpty) allEmpty = false;
  }
  // no window in the scope: only a waiting join (or a pending `for`) asks for another close
  if (!any) next = nextCloseAt(NO_DATA, specs.get(g.cpis[0]!)!, at, pending, joinAt);
  return { next, allEmpty };
}
