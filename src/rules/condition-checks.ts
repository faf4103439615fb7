/**
 * The checks of a rule's conditions (the v1 form `cpi, aggregate, threshold` or `when: { all|any }`):
 * one form, known CPIs, an aggregate that fits each CPI, clear lines on the right side, CPIs that
 * share the scope (groupBy) and the resolution, and trend periods the history can serve. Kept apart
 * from cross-checks.ts, which calls it.
 */
import type { CompiledCpi } from './compiled.js';
import { buildCompare, conditionDocsOf } from './build-rule.js';
import { suggestionSuffix } from './did-you-mean.js';
import type { ParsedRuleFile } from './parsed-rule-file.js';
import { formatPath, type PathSegment } from './rule-errors.js';
import type { CpiConditionDoc, CpiDefinitionDoc, RuleDefinitionDoc } from './schema.js';
import { ErrorCodes } from '../errors/codes.js';
import { canonicalJson } from './rule-hash.js';
import { CUSTOMER_FACTS_EVENT, EventChecks, type Reporter } from './event-fields.js';
import { isRecord } from '../shared/plain-data.js';

/** The longest a trend may look back: the recorded values of a week are kept per scope. */
export const MAX_LOOKBACK_MS = 7 * 86_400_000;

export type ConditionReporter = Reporter;

export interface CpiLookup {
  (id: string): { doc: CpiDefinitionDoc | undefined; cpi: CompiledCpi | undefined } | undefined;
}

/** The CPIs of a rule's conditions, in order, when every one is known and compiled. */
export interface RuleCpis { cpis: CompiledCpi[]; docs: CpiDefinitionDoc[] }

export function checkConditions(
  r: ConditionReporter,
  file: ParsedRuleFile,
  base: PathSegment[],
  doc: Partial<RuleDefinitionDoc>,
  raw: unknown,
  lookup: CpiLookup,
  cpiIds: readonly string[],
): RuleCpis | undefined {
  const at = (...p: PathSegment[]) => [...base, ...p];
  if (doc.when !== undefined || (isRecord(raw) && raw.when !== undefined)) {
    const beside = ['cpi', 'aggregate', 'threshold', 'minSamples', 'compare'].filter((k) => isRecord(raw) && raw[k] !== undefined);
    for (const k of beside) r.report(file, at(k), 'RULE_CONDITION_FORM', [`"${k}" beside "when": with when, each condition has its own cpi, aggregate, threshold, minSamples and compare`], 'key');
  } else if (isRecord(raw) && !misspeltField(file, base)) {
    // (a misspelt field of the rule is reported as such, with its did-you-mean, instead)
    const missing = ['cpi', 'aggregate', 'threshold'].filter((k) => raw[k] === undefined);
    if (missing.length > 0) r.report(file, base, 'RULE_CONDITION_FORM', [`the rule needs ${missing.map((k) => `"${k}"`).join(', ')} (or "when" with a list of conditions)`], 'value');
  }

  const written = conditionDocsOf(doc);
  const out: RuleCpis = { cpis: [], docs: [] };
  let complete = true;
  written.conditions.forEach((c, i) => {
    const p = written.path(i);
    const found = c.cpi === undefined ? undefined : lookup(c.cpi);
    if (c.cpi !== undefined && !found) r.report(file, at(...p, 'cpi'), 'RULE_UNKNOWN_CPI', [c.cpi, suggestionSuffix(c.cpi, cpiIds)]);
    checkThreshold(r, file, at(...p), c);
    checkTiers(r, file, at(...p), c);
    const cpi = found?.cpi;
    if (cpi) {
      checkAggregate(r, file, at(...p), c, cpi);
      checkCompare(r, file, at(...p), c, cpi);
    }
    if (cpi && found.doc) {
      out.cpis.push(cpi);
      out.docs.push(found.doc);
    } else complete = false;
  });
  checkSameTiers(r, file, base, written.conditions, written.path);
  if (!complete) return undefined;

  // one scope, one step: the conditions are evaluated together at each close of the scope
  const first = out.cpis[0]!;
  out.cpis.forEach((cpi, i) => {
    if (i === 0) return;
    const p = at(...written.path(i), 'cpi');
    if (cpi.groupBy !== first.groupBy) {
      r.report(file, p, 'RULE_CONDITIONS_SCOPE', [cpi.id, `groupBy ${cpi.groupBy}`, first.id, `groupBy ${first.groupBy}`]);
    } else if (cpi.resolutionMs !== first.resolutionMs) {
      r.report(file, p, 'RULE_CONDITIONS_SCOPE', [cpi.id, `resolution ${out.docs[i]!.resolution}`, first.id, `resolution ${out.docs[0]!.resolution}`]);
    }
  });
  return out;
}

/** Whether the schema found an unknown field directly in the rule at `base`. */
function misspeltField(file: ParsedRuleFile, base: PathSegment[]): boolean {
  const prefix = formatPath(base);
  return file.errors.some((e) => e.code === ErrorCodes.RULE_UNKNOWN_FIELD.code && e.path.startsWith(`${prefix}.`) && !e.path.slice(prefix.length + 1).includes('.'));
}

function checkThreshold(r: ConditionReporter, file: ParsedRuleFile, at: PathSegment[], c: Partial<CpiConditionDoc>, clearAt: PathSegment[] = [...at, 'threshold']): void {
  const t = c.threshold;
  if (!t) return;
  const direction = 'above' in t ? 'above' : 'below';
  const threshold = 'above' in t ? t.above : t.below;
  const clear = t.clear ?? threshold;
  if (direction === 'above' ? clear > threshold : clear < threshold) {
    const why = direction === 'above' ? `for "above", clear must be at most ${threshold}` : `for "below", clear must be at least ${threshold}`;
    r.report(file, [...clearAt, 'clear'], 'RULE_CLEAR_WRONG_SIDE', [clear, threshold, why]);
  }
}

/** Each tier: the default's direction, its clear on the right side, `when` on fields customers have. */
function checkTiers(r: ConditionReporter, file: ParsedRuleFile, at: PathSegment[], c: Partial<CpiConditionDoc>): void {
  const t = c.threshold;
  if (!t?.tiers) return;
  const direction = 'above' in t ? 'above' : 'below';
  t.tiers.forEach((tier, k) => {
    const path = [...at, 'threshold', 'tiers', k];
    const own = 'above' in tier ? 'above' : 'below';
    if (own !== direction) r.report(file, [...path, own], 'RULE_TIERS', [`tier ${k + 1} says "${own}" where the threshold says "${direction}": every tier breaches on the same side, with its own line`], 'key');
    else checkThreshold(r, file, at, { threshold: tier } as Partial<CpiConditionDoc>, path);
    new EventChecks(r, file, path).predicate(CUSTOMER_FACTS_EVENT, ['when'], tier.when, 'customer facts');
  });
}

/** Every condition with tiers lists the same tiers (the same `when`, in the same order): a tier is the rule's. */
function checkSameTiers(r: ConditionReporter, file: ParsedRuleFile, base: PathSegment[], conditions: readonly Partial<CpiConditionDoc>[], pathOf: (i: number) => PathSegment[]): void {
  const whens = conditions.map((c) => c.threshold?.tiers?.map((t) => canonicalJson(t.when)));
  const first = whens.findIndex((w) => w !== undefined);
  if (first < 0) return;
  whens.forEach((w, i) => {
    if (w === undefined || i === first || canonicalJson(w) === canonicalJson(whens[first])) return;
    r.report(file, [...base, ...pathOf(i), 'threshold', 'tiers'], 'RULE_TIERS', [`the tiers of condition ${i + 1} differ from those of condition ${first + 1}: conditions with tiers list the same tiers (the same when, in the same order)`], 'key');
  });
}

function checkAggregate(r: ConditionReporter, file: ParsedRuleFile, at: PathSegment[], c: Partial<CpiConditionDoc>, cpi: CompiledCpi): void {
  const kind = cpi.measure.kind;
  if (kind === 'ratio' && c.aggregate !== undefined && c.aggregate !== 'ratio' && c.aggregate !== 'count') {
    r.report(file, [...at, 'aggregate'], 'RULE_AGGREGATE_KIND', [c.aggregate, 'ratio', ` ("${cpi.id}"); use ratio for the share of matching events, or count`]);
  } else if (kind !== 'ratio' && c.aggregate === 'ratio') {
    r.report(file, [...at, 'aggregate'], 'RULE_AGGREGATE_KIND', ['ratio', kind, ` ("${cpi.id}"); ratio needs a ratio CPI, here use count, sum, avg, min, max or a percentile`]);
  }
}

/** A trend reads the values recorded at closes: its period must fall on a close, within the history kept. */
function checkCompare(r: ConditionReporter, file: ParsedRuleFile, at: PathSegment[], c: Partial<CpiConditionDoc>, cpi: CompiledCpi): void {
  const to = c.compare?.to;
  if (to === undefined) return;
  const [key, text] = typeof to === 'string' ? [undefined, to] : 'offset' in to ? ['offset', to.offset] : ['baseline', to.baseline];
  const built = buildCompare(c.compare!, cpi).to;
  const ms = built.kind === 'offset' ? built.offsetMs : built.periodMs;
  const path = key === undefined ? [...at, 'compare', 'to'] : [...at, 'compare', 'to', key];
  if (ms === 0 || ms % cpi.resolutionMs !== 0) {
    r.report(file, path, 'RULE_COMPARE_PERIOD', [key === undefined ? `${text} (${ms / 1000}s)` : text, `a positive multiple of the resolution of "${cpi.id}" (${cpi.resolutionMs / 1000}s), so it falls on a close`]);
  } else if (ms > MAX_LOOKBACK_MS) {
    r.report(file, path, 'RULE_COMPARE_PERIOD', [key === undefined ? `${text} (${ms / 1000}s)` : text, 'at most 7d (a week of values is kept per scope)']);
  }
}
