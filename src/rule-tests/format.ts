/** How times, values and scopes read in rule test, backtest and explain output. */
import { parseTag } from '../cpis/tags.js';

export function scopeText(tag: string): string {
  const { dimension, value } = parseTag(tag);
  return `${dimension}=${value}`;
}

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'none';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** "+22m" from the start (or the RFC 3339 time when before it). */
export function relTime(t: number, start: number): string {
  const d = t - start;
  if (d < 0) return new Date(t).toISOString();
  const parts: string[] = [];
  let rest = d;
  for (const [u, ms] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / ms);
    if (n > 0) { parts.push(`${n}${u}`); rest -= n * ms; }
  }
  return `+${parts.join('') || '0s'}`;
}
