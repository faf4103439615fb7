/**
 * The compiled form of a rule that passed every check: durations in milliseconds, times of day in
 * minutes, defaults filled in, and its version hash.
 */
import type { CompiledCompare, CompiledCondition, CompiledTier, CompiledGuardrails, CompiledOffer, CompiledRule, CompiledCpi, RuleTarget, SourcePosition } from './compiled.js';
import { durationMs, minuteOfDay } from './clock.js';
import { ruleVersion } from './rule-hash.js';
import type { CompareDoc, CpiConditionDoc, CpiDefinitionDoc, PredicateDoc, RuleDefinitionDoc } from './schema.js';

const DAY_MS = 86_400_000;

/** The conditions of a rule as written: its `when` list, or the one of a v1 rule (cpi, aggregate, threshold). */
export function conditionDocsOf(doc: Partial<RuleDefinitionDoc>): { match: 'all' | 'any'; conditions: Partial<CpiConditionDoc>[]; path: (i: number) => (string | number)[] } {
  if (doc.when) {
    const match = 'all' in doc.when ? 'all' : 'any';
    const list = 'all' in doc.when ? doc.when.all : doc.when.any;
    return { match, conditions: list, path: (i) => ['when', match, i] };
  }
  const one: Partial<CpiConditionDoc> = {
    ...(doc.cpi === undefined ? {} : { cpi: doc.cpi }),
    ...(doc.aggregate === undefined ? {} : { aggregate: doc.aggregate }),
    ...(doc.threshold === undefined ? {} : { threshold: doc.threshold }),
    ...(doc.minSamples === undefined ? {} : { minSamples: doc.minSamples }),
    ...(doc.compare === undefined ? {} : { compare: doc.compare }),
  };
  return { match: 'all', conditions: [one], path: () => [] };
}

export function buildCompare(c: CompareDoc, cpi: CompiledCpi): CompiledCompare {
  const t = c.to;
  const to: CompiledCompare['to'] = t === 'previousWindow' ? { kind: 'offset', offsetMs: cpi.windowMs, name: t }
    : t === 'sameTimeYesterday' ? { kind: 'offset', offsetMs: DAY_MS, name: t }
      : t === 'sameTimeLastWeek' ? { kind: 'offset', offsetMs: 7 * DAY_MS, name: t }
        : 'offset' in t ? { kind: 'offset', offsetMs: durationMs(t.offset), name: `offset ${t.offset}` }
          : { kind: 'baseline', periodMs: durationMs(t.baseline), of: t.of, name: `${t.of} of ${t.baseline}` };
  return { to, as: c.as, minSamples: c.minSamples };
}

type Line = { above: number; clear?: number } | { below: number; clear?: number };

export function buildCondition(c: CpiConditionDoc, cpi: CompiledCpi, line: Line = c.threshold): CompiledCondition {
  const threshold = 'above' in line ? line.above : line.below;
  return {
    cpi, aggregate: c.aggregate, direction: 'above' in line ? 'above' : 'below', threshold, clear: line.clear ?? threshold, minSamples: c.minSamples,
    ...(c.compare === undefined ? {} : { compare: buildCompare(c.compare, cpi) }),
  };
}

/** The tiers of a rule: those of its first condition with tiers (cross-checks: every such condition has the same). */
export function buildTiers(docs: readonly CpiConditionDoc[], cpis: readonly CompiledCpi[], conditions: readonly CompiledCondition[]): CompiledTier[] | undefined {
  const first = docs.find((d) => d.threshold.tiers !== undefined)?.threshold.tiers;
  if (!first) return undefined;
  return first.map((tier, k) => ({
    when: tier.when,
    conditions: docs.map((d, i) => {
      const own = d.threshold.tiers?.[k];
      return own ? buildCondition(d, cpis[i]!, own) : conditions[i]!;
    }),
  }));
}

/** The compiled form of a valid rule whose CPIs compiled (one per condition, in order). */
export function buildRule(doc: RuleDefinitionDoc, cpis: readonly CompiledCpi[], cpiDocs: readonly CpiDefinitionDoc[], position: SourcePosition): CompiledRule {
  const written = conditionDocsOf(doc);
  const conditions = written.conditions.map((c, i) => buildCondition(c as CpiConditionDoc, cpis[i]!));
  const tiers = buildTiers(written.conditions as CpiConditionDoc[], cpis, conditions);
  const first = conditions[0]!;
  const cpi = first.cpi;
  const target: RuleTarget = 'enRoute' in doc.target
    ? { kind: 'enRoute', withinMs: durationMs(doc.target.enRoute.within) }
    : 'contributors' in doc.target
      ? {
          kind: 'contributors',
          withinMs: doc.target.contributors.within === undefined ? cpi.windowMs : durationMs(doc.target.contributors.within),
          ...(doc.target.contributors.where ? { where: doc.target.contributors.where } : {}),
          audience: doc.target.contributors.where ? `${cpi.id}.${doc.id}` : cpi.id,
        }
      : { kind: 'scopeCustomer' };

  const g = doc.guardrails;
  const guardrails: CompiledGuardrails = {
    ...(g.cooldown === undefined ? {} : { cooldownMs: durationMs(g.cooldown) }),
    ...(g.budget === undefined ? {} : { budget: { max: g.budget.max, perMs: durationMs(g.budget.per) } }),
    ...(g.quietHours === undefined
      ? {}
      : { quietHours: { fromMinute: minuteOfDay(g.quietHours.from), toMinute: minuteOfDay(g.quietHours.to), timeZone: g.quietHours.timeZone } }),
    holdoutPercent: g.holdoutPercent,
    killSwitch: g.killSwitch,
  };

  const o = doc.offer;
  const offer: CompiledOffer = {
    kind: o.kind,
    code: o.code,
    title: o.title,
    ...(o.terms === undefined ? {} : { terms: o.terms }),
    ...(o.template === undefined ? {} : { template: o.template }),
    expiresAfterMs: durationMs(o.expiresAfter),
    ...(o.redemption === undefined
      ? {}
      : { redemption: { channel: o.redemption.channel, ...(o.redemption.instructions === undefined ? {} : { instructions: o.redemption.instructions }) } }),
  };

  return {
    id: doc.id,
    version: ruleVersion(doc, doc.when ? cpiDocs : cpiDocs[0]!),
    ...(doc.description === undefined ? {} : { description: doc.description }),
    cpi,
    aggregate: first.aggregate,
    direction: first.direction,
    threshold: first.threshold,
    clear: first.clear,
    forMs: durationMs(doc.for),
    minSamples: first.minSamples,
    match: written.match,
    conditions,
    ...(tiers ? { tiers } : {}),
    target,
    ...(doc.filter === undefined ? {} : { filter: doc.filter }),
    guardrails,
    offer,
    ...(doc.email === undefined ? {} : { email: { template: doc.email.template, ...(doc.email.subject === undefined ? {} : { subject: doc.email.subject }) } }),
    position,
  };
}

export function matcher(event: string, where: PredicateDoc | undefined): { event: string; where?: PredicateDoc };
export function matcher(event: string, where: PredicateDoc | undefined, correlate: string): { event: string; where?: PredicateDoc; correlate: string };
export function matcher(event: string, where: PredicateDoc | undefined, correlate?: string) {
  return { event, ...(where === undefined ? {} : { where }), ...(correlate === undefined ? {} : { correlate }) };
}
