/**
 * Watermark alignment across the input partitions of an instance (as Flink's, FLIP-182): no partition
 * processes events more than `boundMs` of event time ahead of the slowest. A partition's frontier is
 * the newest event time it has processed, or, while it waits, the time of its next event; partitions
 * that are caught up (nothing left to read) do not hold the others back. The slowest frontier is
 * always within the limit, so some partition can always go on. A catch-up then processes events
 * close to event-time order: profiles before the events that use them, a store's events from several
 * partitions together, and (with the bound at most the smallest allowedLateness) none of them late.
 */

interface Frontier { time: number; waiting: boolean; idle: boolean }

export class Alignment {
  private readonly frontiers = new Map<string, Frontier>();

  /** The bound in ms; null: alignment off (every partition goes at its own pace). */
  constructor(public boundMs: number | null) {}

  /** The newest event time any partition may process now (+Infinity: no partition holds back). */
  limit(): number {
    if (this.boundMs === null) return Number.POSITIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    for (const f of this.frontiers.values()) if (!f.idle && f.time < min) min = f.time;
    return min + this.boundMs;
  }

  /** A batch arrived for `key` whose first event is at `time` (before deciding how much of it to process). */
  arrived(key: string, time: number | undefined): void {
    if (time === undefined) return;
    const f = this.frontiers.get(key);
    if (!f || f.idle) this.frontiers.set(key, { time, waiting: false, idle: false });
  }

  /** `key` processed events up to `time`; `caughtUp`: nothing was left to read after them. */
  processed(key: string, time: number | undefined, caughtUp: boolean): void {
    const f = this.frontiers.get(key) ?? { time: Number.NEGATIVE_INFINITY, waiting: false, idle: false };
    if (time !== undefined) f.time = f.waiting ? time : Math.max(f.time, time);
    f.waiting = false;
    f.idle = caughtUp;
    this.frontiers.set(key, f);
  }

  /** `key` stopped before an event at `next` (beyond the limit) and waits. */
  wait(key: string, next: number): void {
    const f = this.frontiers.get(key) ?? { time: next, waiting: true, idle: false };
    f.time = next;
    f.waiting = true;
    f.idle = false;
    this.frontiers.set(key, f);
  }

  /** Waiting partitions whose next event is now within the limit (they may resume). */
  ready(): string[] {
    const limit = this.limit();
    const out: string[] = [];
    for (const [key, f] of this.frontiers) if (f.waiting && f.time <= limit) out.push(key);
    return out;
  }

  hasWaiting(): boolean {
    for (const f of this.frontiers.values()) if (f.waiting) return true;
    return false;
  }

  /** The partition left this instance (revoked). */
  remove(key: string): void {
    this.frontiers.delete(key);
  }

  keys(): string[] {
    return [...this.frontiers.keys()];
  }
}
