/**
 * Likely intended values for durations and times of day written the wrong way, as the hints of
 * "did you mean" (schema-issues.ts appends them to "expected ..., found ..."):
 *
 *   "15 minutes" -> "15m", "1 hour 30 minutes" -> "1h30m", "7h30" -> "7h30m" (a last part without
 *   a unit takes the unit after the one before it), "1.5h" -> "1h30m", "2 weeks" -> "14d";
 *   90 (no unit at all) is ambiguous: the hint names the units instead of guessing one.
 *   "8:00" -> "08:00", "7am" -> "07:00", "9.30pm" -> "21:30", "2200" -> "22:00", 8 -> "08:00".
 *
 * Only values that read one way get a guess. Inputs longer than MAX_HINT_INPUT are not looked at
 * (hostile files carry 200 kB values; a real mistake is a few characters).
 */
import { DURATION_PATTERN, formatDuration } from '../shared/duration.js';

const MAX_HINT_INPUT = 64;

type Unit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Record<Unit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The unit a bare number after a part in `unit` stands for: "7h30" is 7h30m, "1m30" is 1m30s. */
const NEXT_SMALLER: Record<Unit, Unit | undefined> = { d: 'h', h: 'm', m: 's', s: 'ms', ms: undefined };

/** Unit words as people write them; weeks become days. */
const UNIT_WORDS = new Map<string, { unit: Unit; times: number }>();
for (const [unit, words] of Object.entries({
  ms: ['ms', 'msec', 'msecs', 'millisecond', 'milliseconds'],
  s: ['s', 'sec', 'secs', 'second', 'seconds'],
  m: ['m', 'min', 'mins', 'minute', 'minutes'],
  h: ['h', 'hr', 'hrs', 'hour', 'hours'],
  d: ['d', 'day', 'days'],
}) as [Unit, string[]][]) {
  for (const w of words) UNIT_WORDS.set(w, { unit, times: 1 });
}
for (const w of ['w', 'wk', 'wks', 'week', 'weeks']) UNIT_WORDS.set(w, { unit: 'd', times: 7 });

const DURATION = new RegExp(DURATION_PATTERN);

/** What a duration needs, for a number without a unit. */
export const DURATION_UNITS_NOTE = 'a duration needs a unit: ms, s, m, h or d';

export function didYouMeanText(guess: string): string {
  return ` (did you mean "${guess}"?)`;
}

/** The hint for a value that is not a duration: ` (did you mean "7h30m"?)`, a note on units, or ''. */
export function durationHint(value: unknown): string {
  if (typeof value === 'number') return bareNumberHint(String(value), value);
  if (typeof value !== 'string' || value.length > MAX_HINT_INPUT) return '';
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return bareNumberHint(text, Number(text));
  const guess = durationGuess(text);
  return guess !== undefined && guess !== value ? didYouMeanText(guess) : '';
}

function bareNumberHint(shown: string, n: number): string {
  if (n === 0) return didYouMeanText('0s');
  if (Number.isInteger(n) && n > 0) return ` (${DURATION_UNITS_NOTE}, e.g. "${shown}s" or "${shown}m")`;
  return ` (${DURATION_UNITS_NOTE})`;
}

/** "1 hour, 30 minutes" -> "1h30m"; undefined when the text does not read as one duration. */
function durationGuess(text: string): string | undefined {
  const parts: { n: string; unit: Unit; times: number }[] = [];
  const part = /(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*(?:,\s*|and\s+)?/y;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m || m[0].length === 0) return undefined;
    at = part.lastIndex;
    const word = m[2]!;
    let unit: { unit: Unit; times: number } | undefined;
    if (word === '') {
      // only the last part may lack its unit, and only after a part that has one
      const previous = parts[parts.length - 1];
      const next = previous && NEXT_SMALLER[previous.unit];
      if (at < text.length || !next) return undefined;
      unit = { unit: next, times: 1 };
    } else {
      // case does not matter ("15 Minutes"), but a capital M alone may mean months
      unit = word === 'M' ? undefined : UNIT_WORDS.get(word.toLowerCase());
      if (!unit) return undefined;
    }
    parts.push({ n: m[1]!, unit: unit.unit, times: unit.times });
  }
  if (parts.length === 0) return undefined;
  const exact = parts.every((p) => /^\d+$/.test(p.n) && p.times === 1);
  let guess: string;
  if (exact) {
    guess = parts.map((p) => `${p.n}${p.unit}`).join('');
  } else {
    const ms = parts.reduce((sum, p) => sum + Number(p.n) * p.times * UNIT_MS[p.unit], 0);
    if (!Number.isInteger(ms) || ms <= 0) return undefined;
    guess = formatDuration(ms);
  }
  return DURATION.test(guess) ? guess : undefined;
}

/** The hint for a value that is not a time of day "HH:MM": ` (did you mean "08:00"?)` or ''. */
export function timeOfDayHint(value: unknown): string {
  const guess = timeOfDayGuess(value);
  return guess !== undefined && guess !== value ? didYouMeanText(guess) : '';
}

function timeOfDayGuess(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 23 ? hhmm(value, 0) : undefined;
  if (typeof value !== 'string' || value.length > MAX_HINT_INPUT) return undefined;
  const text = value.trim().toLowerCase();
  // 8:00, 8.30, 8h30, 08:00:00 (seconds of :00 only)
  let m = /^(\d{1,2})[:.h](\d{2})(?::00)?$/.exec(text);
  if (m) return hhmm(Number(m[1]), Number(m[2]));
  // 2200, 0730: four digits, 24-hour
  m = /^(\d{2})(\d{2})$/.exec(text);
  if (m) return hhmm(Number(m[1]), Number(m[2]));
  // 7am, 7 pm, 9:30pm, 9.30 p.m.
  m = /^(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m\.?$/.exec(text);
  if (m) {
    const h = Number(m[1]);
    if (h < 1 || h > 12) return undefined;
    return hhmm((h % 12) + (m[3] === 'p' ? 12 : 0), Number(m[2] ?? 0));
  }
  return undefined;
}

function hhmm(h: number, m: number): string | undefined {
  if (h > 23 || m > 59) return undefined;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** 5 for "5%", "5 %" or "5 percent"; undefined for anything else. */
export function percentOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > MAX_HINT_INPUT) return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:%|percent)\s*$/i.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** A percentage as a fraction, without float noise: 5 -> 0.05, 1.1 -> 0.011. */
export function fractionOf(percent: number): number {
  return Number((percent / 100).toPrecision(12));
}

/**
 * The hint for text where a number is expected, from what the text and the field say alone: a
 * number in quotes ("1.5" -> 1.5), a percentage in a field that is in percent (holdoutPercent:
 * "10%" -> 10). Percentages in thresholds depend on the CPI (cross-checks.ts adds their hint).
 */
export function numberHint(value: unknown, field: string | undefined): string {
  if (typeof value !== 'string' || value.length > MAX_HINT_INPUT) return '';
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(value)) return ` (did you mean ${Number(value)}? write numbers without quotes)`;
  const percent = percentOf(value);
  if (percent !== undefined && field !== undefined && /Percent$/.test(field)) return ` (did you mean ${percent}? ${field} is in percent already)`;
  return '';
}
