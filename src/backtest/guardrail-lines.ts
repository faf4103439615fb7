/**
 * What the guardrail that suppressed a decision saw, in words: the holdout bucket, the quiet hours
 * in the scope's zone, the earlier offer within a cooldown, the cap or budget used up. Written from
 * the offers of a replay; read by explain and by the backtest report's decision tables.
 */
import type { Decision } from '../actions/decision.js';
import { holdoutBucket, minuteOfDay } from '../guardrails/stateless.js';
import type { RuleSet } from '../rules/compiled.js';
import { formatDuration } from '../shared/duration.js';
import { scopeText } from '../cpis/tags.js';
import type { FactValue } from '../store/state-store.js';

export interface GuardrailContext {
  ruleSet: RuleSet;
  /** Facts of scopes (time zones for quiet hours), by tag. */
  scopeFacts: (tag: string) => Record<string, FactValue> | null;
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

export function guardrailLines(d: Decision, c: { allOffers: readonly Decision[] }, ctx: GuardrailContext): string[] {
  const rule = d.rule;
  const g = rule.guardrails;
  const policy = ctx.ruleSet.policy;
  const before = (ms: number, pred: (o: Decision) => boolean) =>
    c.allOffers.filter((o) => o.offerId !== d.offerId && o.time > d.time - ms && o.time <= d.time && pred(o));
  switch (d.reason) {
    case 'kill-switch':
      return [policy.killSwitch ? 'the policy kill switch is on: every rule records suppressions only' : 'the rule\'s kill switch is on: it records suppressions only'];
    case 'holdout': {
      const bucket = holdoutBucket(rule.id, d.customerId);
      return [`the customer is in the rule's ${g.holdoutPercent}% holdout group (control group, fixed by a hash of rule and customer: bucket ${bucket} of 10000, below ${Math.round(g.holdoutPercent * 100)})`];
    }
    case 'quiet-hours': {
      const q = g.quietHours!;
      const zone = q.timeZone === 'scope' ? String(ctx.scopeFacts(d.scopeTag)?.timeZone ?? policy.defaultTimeZone) : q.timeZone;
      const m = minuteOfDay(d.time, zone);
      const hhmm = (x: number) => `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
      return [`${iso(d.time)} is ${hhmm(m)} in ${zone}, within the quiet hours ${hhmm(q.fromMinute)}-${hhmm(q.toMinute)}`];
    }
    case 'cooldown': {
      const prev = before(g.cooldownMs ?? 0, (o) => o.customerId === d.customerId && o.rule.id === rule.id);
      return [`the rule already made this customer an offer within its cooldown of ${formatDuration(g.cooldownMs ?? 0)}${prev.length ? `: at ${iso(prev.at(-1)!.time)}` : ' (before the replayed events, or in a reload)'}`];
    }
    case 'customer-cooldown': {
      const prev = before(policy.customerCooldownMs ?? 0, (o) => o.customerId === d.customerId);
      return [`the customer had an offer within the policy's customer cooldown of ${formatDuration(policy.customerCooldownMs ?? 0)}${prev.length ? `: ${prev.at(-1)!.rule.id} at ${iso(prev.at(-1)!.time)}` : ''}`];
    }
    case 'frequency-cap': {
      const cap = policy.frequencyCap!;
      const prev = before(cap.perMs, (o) => o.customerId === d.customerId);
      return [`the customer already had ${prev.length} offers within ${formatDuration(cap.perMs)} (frequency cap: ${cap.max})`];
    }
    case 'budget': {
      const b = g.budget!;
      const period = Math.floor(d.time / b.perMs);
      const used = c.allOffers.filter((o) => o.rule.id === rule.id && o.scopeTag === d.scopeTag && Math.floor(o.time / b.perMs) === period).length;
      return [`the rule's budget of ${b.max} offers per ${formatDuration(b.perMs)} in ${scopeText(d.scopeTag)} was used up (${used} offers from ${iso(period * b.perMs)})`];
    }
    default:
      return [];
  }
}
