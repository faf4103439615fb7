/**
 * Timers on stream time: for each entity and CPI, the next bucket boundary whose close must be
 * evaluated (`at`), and when it is due (`due`: the boundary plus the CPI's allowed lateness, once
 * every event that may still count in the step before the boundary has arrived). A min-heap ordered
 * by (due, boundary, entity, CPI), so every partition evaluates closes in one order whatever order
 * its ops arrived in. At most one timer per entity and CPI.
 */

export interface CloseTimer { at: number; due: number; tag: string; cpi: string }

function before(a: CloseTimer, b: CloseTimer): boolean {
  if (a.due !== b.due) return a.due < b.due;
  if (a.at !== b.at) return a.at < b.at;
  if (a.tag !== b.tag) return a.tag < b.tag;
  return a.cpi < b.cpi;
}

export class CloseTimers {
  private readonly heap: CloseTimer[] = [];
  private readonly scheduled = new Map<string, number>();
  private held: CloseTimer[] = [];

  get size(): number {
    return this.scheduled.size;
  }

  at(tag: string, cpi: string): number | undefined {
    return this.scheduled.get(`${tag}\u0000${cpi}`);
  }

  /**
   * Schedules the close of boundary `at`, due at `at + latenessMs`, unless an earlier boundary of the
   * same entity and CPI is scheduled (a CPI's lateness is the same for all its boundaries).
   */
  schedule(tag: string, cpi: string, at: number, latenessMs: number): void {
    const key = `${tag}\u0000${cpi}`;
    const existing = this.scheduled.get(key);
    if (existing !== undefined && existing <= at) return;
    this.scheduled.set(key, at);
    this.push({ at, due: at + latenessMs, tag, cpi });
  }

  /** The next timer due at or before `now`, removed; undefined when none is due. */
  popDue(now: number): CloseTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const t = this.pop();
      const key = `${t.tag}\u0000${t.cpi}`;
      if (this.scheduled.get(key) !== t.at) continue; // superseded by an earlier one
      this.scheduled.delete(key);
      return t;
    }
    return undefined;
  }

  /** Removes the timer of an entity and CPI (to run its close now), returning its boundary. */
  take(tag: string, cpi: string): number | undefined {
    const key = `${tag}\u0000${cpi}`;
    const at = this.scheduled.get(key);
    this.scheduled.delete(key); // its heap entry is skipped when it comes up
    return at;
  }

  /**
   * Keeps a timer popped but not run (its close waits for something else: pipeline/fact-checks.ts)
   * as scheduled, so no later boundary of its entity and CPI is scheduled before it runs; `release`
   * puts it back on the heap.
   */
  hold(t: CloseTimer): void {
    this.scheduled.set(`${t.tag}\u0000${t.cpi}`, t.at);
    this.held.push(t);
  }

  /** Every held timer back on the heap (a held one superseded by an earlier boundary is dropped). */
  release(): void {
    for (const t of this.held) if (this.scheduled.get(`${t.tag}\u0000${t.cpi}`) === t.at) this.push(t);
    this.held = [];
  }

  private push(t: CloseTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): CloseTimer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
