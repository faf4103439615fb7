/**
 * The stream time of one owner partition. Its ops come from every input partition (the sources),
 * each reporting how far its own event time has got (its watermark: the newest event time it has
 * routed, carried on every op and on every record). The partition's time is the slowest active
 * source's watermark: an op that was in time in its own source can never be late here, and a bucket
 * closes only once every active source has moved past it.
 *
 * A source that is caught up and idle sends marks with its watermark advanced by the wall time since
 * its last event. It holds the others back to that watermark, but never more than `slackMs` (the
 * alignment bound) behind the slowest active source: in live traffic its advanced watermark is about
 * the others' time, so nothing waits; in a replay of history an idle partition does not stop the
 * rest, and one that comes back with events up to `slackMs` + the lateness behind the others is
 * still in time. When every source is idle, the newest watermark wins (and moves with the wall
 * clock). A source with nothing to report (idle, no event routed since its router started) is left
 * out until it routes again. Stream time never goes back.
 */

export interface SourceMark {
  /** Newest event time routed by the source (null: none yet). */
  watermark: number | null;
  /** The source is caught up and has nothing in flight. */
  idle: boolean;
  /** Its latest mark was idle with no watermark: left out of the stream time until it routes again. */
  blank?: boolean;
}

export class StreamClock {
  private readonly marks: SourceMark[];
  private current: number | null = null;

  /** How far an idle source may hold stream time behind the slowest active one (ms). */
  slackMs = 0;

  constructor(readonly sources: number, marks?: readonly SourceMark[]) {
    this.marks = Array.from({ length: sources }, (_, i) => ({ watermark: marks?.[i]?.watermark ?? null, idle: marks?.[i]?.idle ?? false, ...(marks?.[i]?.blank ? { blank: true } : {}) }));
    this.recompute();
  }

  /** The partition's stream time (null until every active source has reported). */
  get now(): number | null {
    return this.current;
  }

  /** Records a source's progress; returns whether the stream time moved. */
  update(source: number, watermark: number | null, idle: boolean): boolean {
    const m = this.marks[source];
    if (!m) return false;
    const wm = watermark === null ? m.watermark : m.watermark === null ? watermark : Math.max(m.watermark, watermark);
    const blank = idle && watermark === null;
    if (wm === m.watermark && idle === m.idle && blank === (m.blank ?? false)) return false;
    m.watermark = wm;
    m.idle = idle;
    if (blank) m.blank = true;
    else delete m.blank;
    return this.recompute();
  }

  /** Moves stream time to `time` at the end of bounded input (backtests, rule tests). */
  flush(time: number): boolean {
    if (this.current !== null && time <= this.current) return false;
    this.current = time;
    return true;
  }

  snapshot(): SourceMark[] {
    return this.marks.map((m) => ({ ...m }));
  }

  private recompute(): boolean {
    let active: number | null = null;
    let unknown = false;
    const idle: number[] = [];
    for (const m of this.marks) {
      if (m.blank || (m.idle && m.watermark === null)) continue;
      if (m.idle) idle.push(m.watermark!);
      else if (m.watermark === null) unknown = true;
      else if (active === null || m.watermark < active) active = m.watermark;
    }
    let next: number | null;
    if (unknown) next = null;
    else if (active === null) next = idle.length > 0 ? Math.max(...idle) : null;
    else {
      next = active;
      for (const w of idle) next = Math.min(next, Math.max(w, active - this.slackMs));
    }
    if (next === null || (this.current !== null && next <= this.current)) return false;
    this.current = next;
    return true;
  }
}
