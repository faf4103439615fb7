/**
 * Times in rules: durations in milliseconds, times of day in minutes, IANA time zones (checked, and
 * listed for "did you mean").
 */
import { parseDuration } from '../shared/duration.js';

/** Milliseconds per unit of a duration CPI. */
export const UNIT_MS = { seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

/** "90s" -> 90000. Only validated durations reach here; anything else counts as 0. */
export function durationMs(duration: string): number {
  return parseDuration(duration) ?? 0;
}

/** "21:30" -> 1290 */
export function minuteOfDay(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function isTimeZone(zone: string): boolean {
  // IANA names are short; ICU takes seconds to refuse a 200 kB one
  if (zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

let zoneList: string[] | undefined;

/** Every IANA time zone name the runtime knows, and UTC: the candidates of "did you mean". */
export function timeZones(): string[] {
  zoneList ??= ['UTC', ...Intl.supportedValuesOf('timeZone')];
  return zoneList;
}
