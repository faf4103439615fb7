/**
 * RFC 3339 date-time <-> epoch milliseconds, without Date objects or regexes on the hot path.
 *
 * Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (the RFC 3339 `date-time` production;
 * `T` and `Z` may be lower case, as the RFC allows). Calendar dates are checked (no 2023-02-29),
 * the fraction is truncated to milliseconds, and a leap second (`:60`) counts as the next second.
 */

const MAX_LENGTH = 64;
const MS_PER_DAY = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_799_999;

const ZERO = 48;
const NINE = 57;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Reads `count` ASCII digits at `at`; -1 if any is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    n = n * 10 + (c - ZERO);
  }
  return n;
}

/**
 * Parses an RFC 3339 date-time. Returns epoch milliseconds, or a string explaining what is wrong
 * (the caller builds the error message; no allocation on success).
 */
export function parseRfc3339(s: string): number | string {
  const len = s.length;
  if (len > MAX_LENGTH) return `too long (${len} characters) for an RFC 3339 date-time`;
  if (len < 19) return 'too short for an RFC 3339 date-time such as 2025-03-14T09:26:53Z';
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const t = s.charCodeAt(10);
  if (
    year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 ||
    s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45 ||
    (t !== 84 /* T */ && t !== 116 /* t */) ||
    s.charCodeAt(13) !== 58 /* : */ || s.charCodeAt(16) !== 58
  ) {
    return 'not in the RFC 3339 form YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)';
  }
  if (month < 1 || month > 12) return `month ${month} is out of range`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${day} does not exist in ${s.slice(0, 7)}`;
  if (hour > 23) return `hour ${hour} is out of range`;
  if (minute > 59) return `minute ${minute} is out of range`;
  if (second > 60) return `second ${second} is out of range`;

  let i = 19;
  let millis = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    const start = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      if (i - start < 3) millis = millis * 10 + (c - ZERO);
      i++;
    }
    if (i === start) return 'the fraction of a second after "." has no digits';
    for (let k = i - start; k < 3; k++) millis *= 10;
  }

  let offsetMinutes = 0;
  const z = s.charCodeAt(i);
  if (z === 90 /* Z */ || z === 122 /* z */) {
    i++;
  } else if (z === 43 /* + */ || z === 45 /* - */) {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0 || s.charCodeAt(i + 3) !== 58) return 'the time zone offset is not in the form +HH:MM or -HH:MM';
    if (oh > 23 || om > 59) return `the time zone offset ${s.slice(i, i + 6)} is out of range`;
    offsetMinutes = (oh * 60 + om) * (z === 45 ? -1 : 1);
    i += 6;
  } else {
    return 'the time zone is missing (expected Z or an offset such as +01:00)';
  }
  if (i !== len) return 'unexpected characters after the time zone';

  const ms =
    daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis;
  // an offset can push 0000-01-01 or 9999-12-31 out of the range RFC 3339 can write back in UTC
  if (ms < MIN_MS || ms > MAX_MS) return 'outside the years 0000 to 9999 once converted to UTC';
  return ms;
}

/** Formats epoch milliseconds as RFC 3339 in UTC with milliseconds (`2025-03-14T09:26:53.000Z`). */
export function formatRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
