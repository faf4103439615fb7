/**
 * The next bucket boundary at which a close can change anything: a rule's evaluation is a function
 * of the window's content and of the time only through `for` (how long a breach has been pending),
 * so between boundaries where no bucket holding data enters or leaves the window and no pending
 * breach reaches its `for`, every close would evaluate to what the last one did. Skipping those
 * makes a long window cost per bucket of data, not per step: a store with a few events a day in a
 * 24 h window at 1 min resolution closes about twice per bucket it has data in, not 1,440 times.
 *
 * Pure; the caller says which boundaries the window holds data at (see windows/cpi-window.ts).
 */
import type { CpiWindowSpec } from '../windows/window-spec.js';

export interface WindowData {
  /** The earliest bucket at or after `first` holding data (undefined: none). */
  firstDataFrom(first: number): number | undefined;
}

/**
 * After the close of boundary `at`: the first boundary after it whose window differs from the window
 * at `at`, or at which a breach pending since `since` has lasted `forMs` (each of `pending`), or
 * `also` (another boundary the caller must see, e.g. a waiting join's). Infinity: none.
 */
export function nextCloseAt(w: WindowData, spec: CpiWindowSpec, at: number, pending: readonly { since: number; forMs: number }[], also = Infinity): number {
  const res = spec.resolutionMs;
  const a = Math.ceil(at / res);
  let next = also;
  // a bucket with data comes in: bucket d is first in the window ending at (d + 1) * res
  const entering = w.firstDataFrom(a);
  if (entering !== undefined) next = Math.min(next, (entering + 1) * res);
  // the oldest bucket with data in the window leaves: bucket d is last in the window ending at (d + n) * res
  const oldest = w.firstDataFrom(a - spec.buckets);
  if (oldest !== undefined && oldest < a) next = Math.min(next, (oldest + spec.buckets + 1) * res);
  for (const p of pending) next = Math.min(next, forDue(p, res));
  return Math.max(next, at + res);
}

/** The boundary a breach pending since `since` fires at if it holds: the first one `forMs` after it. */
function forDue(p: { since: number; forMs: number }, res: number): number {
  return p.since + Math.ceil(p.forMs / res) * res;
}

/**
 * Whether a close at `at` can evaluate differently from the close at `last` (before it): a bucket
 * with data left or came into the window between them, or a breach pending at `last` reached its
 * `for`. The window must still hold the buckets of the window at `last` (evict only before it).
 * Buckets in the window at `last` are final by then (its close waited for the lateness).
 */
export function changedSince(w: WindowData, spec: CpiWindowSpec, last: number, at: number, pending: readonly { since: number; forMs: number }[]): boolean {
  const res = spec.resolutionMs;
  const l = Math.ceil(last / res);
  const a = Math.ceil(at / res);
  const left = w.firstDataFrom(l - spec.buckets);
  if (left !== undefined && left < Math.min(l, a - spec.buckets)) return true;
  const entered = w.firstDataFrom(l);
  if (entered !== undefined && entered < a) return true;
  return pending.some((p) => { const due = forDue(p, res); return due > last && due <= at; });
}
