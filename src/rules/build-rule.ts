/**
 * The compiled form of a rule that passed every check: durations in milliseconds, times of day in
 * minutes, defaults filled in, and its version hash.
 */
import type { CompiledGuardrails, CompiledOffer, CompiledRule, CompiledCpi, RuleTarget, SourcePosition } from './compiled.js';
import { durationMs, minuteOfDay } from './clock.js';
import { ruleVersion } from './rule-hash.js';
import type { CpiDefinitionDoc, PredicateDoc, RuleDefinitionDoc } from './schema.js';

/** The compiled form of a valid rule whose CPI compiled. */
export function buildRule(doc: RuleDefinitionDoc, cpi: CompiledCpi, cpiDoc: CpiDefinitionDoc, position: SourcePosition): CompiledRule {
  const t = doc.threshold;
  const threshold = 'above' in t ? t.above : t.below;
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
    expiresAfterMs: durationMs(o.expiresAfter),
    ...(o.redemption === undefined
      ? {}
      : { redemption: { channel: o.redemption.channel, ...(o.redemption.instructions === undefined ? {} : { instructions: o.redemption.instructions }) } }),
  };

  return {
    id: doc.id,
    version: ruleVersion(doc, cpiDoc),
    ...(doc.description === undefined ? {} : { description: doc.description }),
    cpi,
    aggregate: doc.aggregate,
    direction: 'above' in t ? 'above' : 'below',
    threshold,
    clear: t.clear ?? threshold,
    forMs: durationMs(doc.for),
    minSamples: doc.minSamples,
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
