/**
 * "Did you mean ...?" suggestions for misspelt field names, CPI ids, event types and enum values.
 * Distance is Damerau-Levenshtein (optimal string alignment: insert, delete, substitute, swap two
 * neighbours), compared case-insensitively, so "groupby" -> "groupBy" and "tresholds" -> "threshold".
 */

/** Optimal string alignment distance between a and b (case-sensitive; callers lower-case). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const cols = b.length + 1;
  // Three rolling rows: two back (for transpositions), previous, current.
  let prev2 = new Array<number>(cols).fill(0);
  let prev = Array.from({ length: cols }, (_, j) => j);
  let cur = new Array<number>(cols).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

/** How many edits a word of this length may be away from a candidate and still be suggested. */
export function maxDistanceFor(length: number): number {
  if (length <= 3) return 1;
  if (length <= 6) return 2;
  return 3;
}

/**
 * The candidate closest to `input`, or undefined when none is close enough. A candidate that starts
 * with the input (or the other way round) and shares at least four characters also counts, so
 * "holdout" suggests "holdoutPercent". Ties go to the earlier candidate. When nothing is close, the
 * one candidate that shares whole words with the input is suggested: "tier" -> "valueTier".
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const hay = candidate.toLowerCase();
    // the distance is at least the difference in length: skip the O(n*m) table when it cannot
    // be close enough (a 200 kB unknown name must not cost seconds per candidate)
    const close = Math.abs(needle.length - hay.length) <= maxDistanceFor(Math.max(needle.length, hay.length));
    let score = close ? editDistance(needle, hay) : Number.POSITIVE_INFINITY;
    if (score > maxDistanceFor(Math.max(needle.length, hay.length))) {
      const shorter = Math.min(needle.length, hay.length);
      const prefix = shorter >= 4 && (hay.startsWith(needle) || needle.startsWith(hay));
      if (!prefix) continue;
      score = maxDistanceFor(shorter) + 0.5; // any real near-miss beats a prefix match
    }
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best ?? partOf(input, candidates);
}

/** Names longer than this are not split into words (hostile files carry 200 kB names). */
const MAX_PARTS_INPUT = 128;

/** The words of a name, lower-cased: its camelCase humps and the runs between `_`, `-`, `.` or spaces. */
function words(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '');
}

/** Whether `inner` appears in `outer` as consecutive words. */
function hasRun(outer: readonly string[], inner: readonly string[]): boolean {
  if (inner.length === 0 || inner.length > outer.length) return false;
  for (let i = 0; i + inner.length <= outer.length; i++) {
    if (inner.every((w, j) => outer[i + j] === w)) return true;
  }
  return false;
}

/**
 * The one candidate that has the input's words among its own, or whose words are among the
 * input's, at least four letters of them: "tier" -> "valueTier", "zone" -> "timeZone",
 * "customer_email" -> "email". Undefined when none does, or more than one.
 */
function partOf(input: string, candidates: Iterable<string>): string | undefined {
  if (input.length > MAX_PARTS_INPUT) return undefined;
  const mine = words(input);
  let found: string | undefined;
  for (const candidate of candidates) {
    if (candidate === input || candidate.length > MAX_PARTS_INPUT) continue;
    const theirs = words(candidate);
    const shared = hasRun(theirs, mine) ? mine : hasRun(mine, theirs) ? theirs : undefined;
    if (shared === undefined || shared.join('').length < 4) continue;
    if (found !== undefined && found !== candidate) return undefined; // ambiguous
    found = candidate;
  }
  return found;
}

/** ` (did you mean "x"?)` or the empty string: ready to append to a message. */
export function suggestionSuffix(input: string, candidates: Iterable<string>): string {
  const match = didYouMean(input, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}
