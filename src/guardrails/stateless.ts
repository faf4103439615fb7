/**
 * The guardrails that need no state: kill switches, the holdout group and quiet hours. Pure.
 * The stateful ones (cooldowns, frequency cap, budget) are decided atomically by the state store.
 */
import { createHash } from 'node:crypto';
import type { CompiledPolicy, CompiledRule } from '../rules/compiled.js';
import type { SuppressionReason } from './suppression.js';

/**
 * Deterministic holdout: the same customer is always in (or out of) a rule's control group, so lift
 * can be measured. Buckets 0..9999 from a hash of rule id and customer id.
 */
export function holdoutBucket(ruleId: string, customerId: string): number {
  return createHash('sha256').update(`${ruleId}\u0000${customerId}`).digest().readUInt32BE(0) % 10_000;
}

export function isHeldOut(ruleId: string, customerId: string, percent: number): boolean {
  return percent > 0 && holdoutBucket(ruleId, customerId) < Math.round(percent * 100);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight of `time` in `timeZone` (falls back to UTC for an unknown zone). */
export function minuteOfDay(time: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    }
    formatters.set(timeZone, f);
  }
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(new Date(time))) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return hour * 60 + minute;
}

/** Quiet hours [from, to) in local time; from > to spans midnight; from == to is never quiet. */
export function inQuietHours(time: number, fromMinute: number, toMinute: number, timeZone: string): boolean {
  if (fromMinute === toMinute) return false;
  const m = minuteOfDay(time, timeZone);
  return fromMinute < toMinute ? m >= fromMinute && m < toMinute : m >= fromMinute || m < toMinute;
}

export interface StatelessContext {
  rule: CompiledRule;
  policy: CompiledPolicy;
  customerId: string;
  time: number;
  /** Time zone of the scope (store), when known. */
  scopeTimeZone?: string;
}

/** The first stateless guardrail that suppresses the offer, if any (kill switch, holdout, quiet hours). */
export function statelessSuppression(ctx: StatelessContext): SuppressionReason | undefined {
  const g = ctx.rule.guardrails;
  if (ctx.policy.killSwitch || g.killSwitch) return 'kill-switch';
  if (isHeldOut(ctx.rule.id, ctx.customerId, g.holdoutPercent)) return 'holdout';
  if (g.quietHours) {
    const zone = g.quietHours.timeZone === 'scope' ? (ctx.scopeTimeZone ?? ctx.policy.defaultTimeZone) : g.quietHours.timeZone;
    if (inQuietHours(ctx.time, g.quietHours.fromMinute, g.quietHours.toMinute, zone)) return 'quiet-hours';
  }
  return undefined;
}

const DAY_MS = 86_400_000;

/** How long the ledger must remember a decision: the longest guardrail period, at least a week. */
export function retentionMs(rule: CompiledRule, policy: CompiledPolicy): number {
  return Math.max(
    7 * DAY_MS,
    rule.guardrails.cooldownMs ?? 0,
    rule.guardrails.budget?.perMs ?? 0,
    policy.customerCooldownMs ?? 0,
    policy.frequencyCap?.perMs ?? 0,
    rule.offer.expiresAfterMs,
  );
}
