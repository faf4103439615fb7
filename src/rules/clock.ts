/**
 * Times in rules: durations in milliseconds, times of day in minutes, IANA time zones (checked, and
 * listed for "did you mean").
 */
import { parseDuration } from '../shared/duration.js';
import { didYouMean, editDistance } from './did-you-mean.js';

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

/** A zone name as people type it: no case, accents, spaces, underscores or dashes ("são paulo" = "Sao_Paulo"). */
function zoneKey(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[\s_-]+/g, '');
}

let cityIndex: { byKey: Map<string, string>; byCity: Map<string, string>; cities: string[] } | undefined;

/** The zones by their key, and by the key of their city part (the first zone of a city wins). */
function zoneIndex() {
  if (!cityIndex) {
    const byKey = new Map<string, string>();
    const byCity = new Map<string, string>();
    for (const zone of timeZones()) {
      byKey.set(zoneKey(zone), zone);
      const city = zoneKey(zone.slice(zone.lastIndexOf('/') + 1));
      if (!byCity.has(city)) byCity.set(city, zone);
    }
    cityIndex = { byKey, byCity, cities: [...byCity.keys()] };
  }
  return cityIndex;
}

/** US zones called by their common names ("Eastern", "Pacific Time"), which no IANA name has as its city. */
const COMMON_NAMES = new Map([
  ['eastern', 'America/New_York'],
  ['central', 'America/Chicago'],
  ['mountain', 'America/Denver'],
  ['pacific', 'America/Los_Angeles'],
]);

/**
 * The IANA zone an unknown one most likely means: the same name typed differently
 * ("america/new york"), a city's own name ("New York" -> "America/New_York", "london" ->
 * "Europe/London"), or a near miss of either ("America/Chicgo", "New Yrok").
 */
export function suggestTimeZone(zone: string): string | undefined {
  if (zone.length > 64) return undefined;
  const { byKey, byCity, cities } = zoneIndex();
  const key = zoneKey(zone);
  const exact = byKey.get(key) ?? byCity.get(zoneKey(zone.slice(zone.lastIndexOf('/') + 1)));
  if (exact !== undefined && exact !== zone) return exact;
  const common = COMMON_NAMES.get(key.replace(/time$/, ''));
  if (common !== undefined) return common;
  const near = didYouMean(zone, timeZones());
  if (near !== undefined) return near;
  // a misspelt city alone: one edit, on names long enough for one edit to be telling
  if (zone.includes('/') || key.length < 5) return undefined;
  const city = cities.find((c) => Math.abs(c.length - key.length) <= 1 && editDistance(c, key) <= 1);
  return city === undefined ? undefined : byCity.get(city);
}
