/**
 * The stream time of one owner partition. Its ops come from every input partition (the sources),
 * each reporting how far its own event time has got (its watermark: the newest event time it has
 * routed, carried on every op and on every record). The partition's time is the slowest active
 * source's watermark: an op that was in time in its own source can never be late here, and a bucket
 * closes only once every source has moved past it. A source that is caught up and idle says so and
 * stops holding the others back; when every source is idle, the newest watermark wins (the idle
 * sources advance theirs with the wall clock, so windows close and episodes end with no traffic).
 * Stream time never goes back.
 */

export interface SourceMark {
  /** Newest event time routed by the source (null: none yet). */
  watermark: number | null;
  /** The source is caught up and has nothing in flight. */
  idle: boolean;
}

export class StreamClock {
  private readonly marks: SourceMark[];
  private current: number | null = null;

  constructor(readonly sources: number, marks?: readonly SourceMark[]) {
    this.marks = Array.from({ length: sources }, (_, i) => ({ watermark: marks?.[i]?.watermark ?? null, idle: marks?.[i]?.idle ?? false }));
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
    if (wm === m.watermark && idle === m.idle) return false;
    m.watermark = wm;
    m.idle = idle;
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
    let min: number | null = null;
    let max: number | null = null;
    let active = 0;
    let unknown = false;
    for (const m of this.marks) {
      if (m.watermark !== null && (max === null || m.watermark > max)) max = m.watermark;
      if (m.idle) continue;
      active++;
      if (m.watermark === null) unknown = true;
      else if (min === null || m.watermark < min) min = m.watermark;
    }
    const next = active === 0 ? max : unknown ? null : min;
    if (next === null || (this.current !== null && next <= this.current)) return false;
    this.current = next;
    return true;
  }
}
