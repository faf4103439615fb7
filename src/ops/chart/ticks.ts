/**
 * Axis ticks a reader can read: round values on the y axis (1, 2 or 5 times a power of ten) and
 * times on round minutes, hours or days of a time zone on the x axis, labelled in that zone.
 * Pure: no clock, no I/O; shared by the backtest report and the live page (through svg-chart.ts).
 */

/** About `count` round values covering [lo, hi] (the first at or below lo, the last at or above hi), and their step. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { ticks: [], step: 0 };
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) { const d = Math.abs(lo) > 0 ? Math.abs(lo) / 10 : 1; lo -= d; hi += d; }
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  // outward: the first tick at or below lo, the last at or above hi
  const last = Math.ceil(hi / step - 1e-9);
  for (let i = Math.floor(lo / step + 1e-9); i <= last; i++) ticks.push(round(i * step, step));
  return { ticks, step };
}

/** Removes the binary noise of i * step (0.30000000000000004 -> 0.3). */
function round(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(v.toFixed(Math.min(20, decimals)));
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TIME_STEPS = [MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(zone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    partsFormatters.set(zone, f);
  }
  return f;
}

/** The wall-clock fields of `t` in `zone` (an unknown zone reads as UTC). */
export function wallClock(t: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number } {
  let f: Intl.DateTimeFormat;
  try { f = partsIn(zone); } catch { f = partsIn('UTC'); }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute) };
}

/** The zone's offset from UTC at `t`, in ms (+2h for Europe/Madrid in summer). */
export function zoneOffset(t: number, zone: string): number {
  const w = wallClock(t, zone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi) - Math.floor(t / MIN) * MIN;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "14:05" in the zone, "12-07 14:05" with the date. */
export function timeLabel(t: number, zone: string, withDate = false): string {
  const w = wallClock(t, zone);
  return `${withDate ? `${pad(w.mo)}-${pad(w.d)} ` : ''}${pad(w.h)}:${pad(w.mi)}`;
}

/** "2026-12-07 14:05" in the zone. */
export function dateTimeLabel(t: number, zone: string): string {
  const w = wallClock(t, zone);
  return `${w.y}-${pad(w.mo)}-${pad(w.d)} ${pad(w.h)}:${pad(w.mi)}`;
}

/**
 * Ticks on round local times of `zone` within [t0, t1], at most about `count`: each labelled
 * HH:MM, with the date on the first tick and wherever the local date changes.
 */
export function timeTicks(t0: number, t1: number, zone = 'UTC', count = 6): { at: number; label: string }[] {
  if (!(t1 > t0)) return [{ at: t0, label: timeLabel(t0, zone, true) }];
  const raw = (t1 - t0) / Math.max(1, count);
  const step = TIME_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / DAY) * DAY;
  const offset = zoneOffset(t0, zone);
  const out: { at: number; label: string }[] = [];
  let lastDay = '';
  for (let local = Math.ceil((t0 + offset) / step) * step; local - offset <= t1; local += step) {
    const at = local - offset;
    const w = wallClock(at, zone);
    const day = `${w.y}-${w.mo}-${w.d}`;
    out.push({ at, label: timeLabel(at, zone, step >= DAY || day !== lastDay) });
    lastDay = day;
  }
  return out;
}
