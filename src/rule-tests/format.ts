/** How times, values and scopes read in rule test, backtest and explain output. */
export { scopeText } from '../cpis/tags.js';
export { fmt } from '../shared/number-text.js';

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
