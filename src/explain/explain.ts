/**
 * Why a customer did or did not get an offer, rule by rule, from what the engine did in a backtest:
 *
 *   offered          a decision with outcome offered (when, where, the CPI value against the threshold)
 *   suppressed       a decision with a suppression reason, and that guardrail's verdict spelled out
 *   filtered out     a candidate the rule's filter on customer facts left out (each condition vs the fact)
 *   not a candidate  the rule never fired where the customer was (the CPI value and threshold then),
 *                    or fired but the customer was not in its audience (the episodes vs the customer)
 *   not concerned    no event of the customer puts them in any scope of the rule
 *
 * The engine's own functions decide where each event of the customer lands (deriveOps with the rule
 * set's routing); nothing here re-decides an offer.
 */
import type { Decision } from '../actions/decision.js';
import { conditionHolds } from '../cpis/predicate.js';
import { deriveOps } from '../cpis/derive-ops.js';
import { getPath } from '../cpis/field-path.js';
import { buildRouting, type Routing } from '../cpis/routing.js';
import { customerTag } from '../cpis/tags.js';
import { decodeEvent } from '../events/decode.js';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import { CUSTOMER_FACTS_EVENT } from '../rules/event-fields.js';
import { guardrailLines } from '../backtest/guardrail-lines.js';
import type { BatchResult, FilteredOut, RawMessage } from '../pipeline/types.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import type { ConditionResult } from '../rules/conditions.js';
import { tierKey } from '../rules/evaluate.js';
import { conditionResultsText, conditionsText, hasConditionWords, tierWhenText } from '../rules/condition-words.js';
import { formatDuration } from '../shared/duration.js';
import { fmt, scopeText } from '../rule-tests/format.js';
import type { FactValue } from '../store/state-store.js';

export type Verdict = 'offered' | 'suppressed' | 'filtered-out' | 'not-a-candidate' | 'not-concerned';

export interface RuleExplanation {
  ruleId: string;
  verdict: Verdict;
  lines: string[];
}

interface Point { at: number; value: number | null; status: string; transition?: string; conditions?: ConditionResult[] }
interface Presence { tag: string; kind: 'enroute' | 'contrib' | 'own'; cpi?: string; time: number; etaMs?: number; eventType: string }

/** Collects, during a backtest, what explaining one customer needs. */
export class ExplainCollector {
  readonly decisions: Decision[] = [];
  /** Every decision of every customer (cooldowns, caps and budgets depend on them). */
  readonly allOffers: Decision[] = [];
  readonly filteredOut: FilteredOut[] = [];
  readonly presence: Presence[] = [];
  /** rule id -> scope tag -> evaluations */
  readonly series = new Map<string, Map<string, Point[]>>();
  private readonly routing: Routing;
  private readonly needle: Buffer;
  private readonly rules: ReadonlyMap<string, CompiledRule>;

  constructor(readonly ruleSet: RuleSet, readonly customerId: string) {
    this.routing = buildRouting(ruleSet);
    this.needle = Buffer.from(customerId);
    this.rules = new Map(ruleSet.rules.map((r) => [r.id, r]));
  }

  addBatch(result: BatchResult, batch: readonly RawMessage[]): void {
    for (const e of result.evaluations) {
      // a tier's evaluations are its own series (explain reads tier 0's: the rule's own thresholds)
      const key = tierKey(e.ruleId, e.tier ?? 0);
      let byScope = this.series.get(key);
      if (!byScope) this.series.set(key, (byScope = new Map()));
      let points = byScope.get(e.scopeTag);
      if (!points) byScope.set(e.scopeTag, (points = []));
      const rule = this.rules.get(e.ruleId);
      const words = rule !== undefined && hasConditionWords(rule);
      points.push({ at: e.at, value: e.value, status: e.state.status, ...(e.transition ? { transition: e.transition } : {}), ...(words ? { conditions: e.conditions } : {}) });
    }
    for (const d of result.published) {
      if (d.outcome === 'offered') this.allOffers.push(d);
      if (d.customerId === this.customerId) this.decisions.push(d);
    }
    for (const f of result.filteredOut) if (f.customerId === this.customerId) this.filteredOut.push(f);
    const own = customerTag(this.customerId);
    for (const m of batch) {
      if (!m.value || !m.value.includes(this.needle)) continue;
      const decoded = decodeEvent(m, { maxBytes: Number.MAX_SAFE_INTEGER }, this.routing.eventTypes);
      if (!decoded.ok) continue;
      for (const { tag, op, cpi } of deriveOps(decoded.event, this.routing).ops) {
        const base = { tag, time: op.time, eventType: decoded.event.type };
        if (op.kind === 'enroute' && op.customer === this.customerId) this.presence.push({ ...base, kind: 'enroute', etaMs: op.etaMs });
        else if (op.kind === 'contrib' && op.customer === this.customerId) this.presence.push({ ...base, kind: 'contrib', cpi: op.cpi });
        else if (tag === own && cpi !== undefined && op.kind !== 'contrib') this.presence.push({ ...base, kind: 'own', cpi });
      }
    }
  }
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

function thresholdText(rule: CompiledRule): string {
  if (hasConditionWords(rule)) return `fires while ${conditionsText(rule)}${rule.forMs > 0 ? `, after holding for ${formatDuration(rule.forMs)}` : ''}`;
  return `fires ${rule.direction} ${fmt(rule.threshold)}${rule.clear !== rule.threshold ? `, clears at ${fmt(rule.clear)}` : ''}${rule.forMs > 0 ? ` after holding for ${formatDuration(rule.forMs)}` : ''}${rule.minSamples > 1 ? `, with at least ${rule.minSamples} samples` : ''}`;
}

function conditionText(c: unknown): string {
  return typeof c === 'object' && c !== null ? JSON.stringify(c).replace(/"(\w+)":/g, '$1: ') : JSON.stringify(c);
}

/** Each filter condition against the customer's fact. */
/** The customer facts that are personal data (pii: true in customer.profile's declaration): never printed. */
export function personalFacts(ruleSet?: RuleSet): ReadonlySet<string> {
  return (ruleSet?.eventTypes ?? BUILTIN_EVENT_TYPES).get(CUSTOMER_FACTS_EVENT)?.pii ?? new Set();
}

const NOT_SHOWN = '(personal data, not shown)';

function shownFact(field: string, value: FactValue | undefined, personal: ReadonlySet<string>): string {
  if (value === undefined) return 'unknown (no such fact)';
  return personal.has(field.split('.')[0]!) ? NOT_SHOWN : JSON.stringify(value);
}

/** `valueTier="gold", email=(personal data, not shown)`: a customer's facts as explain prints them. */
export function factsText(facts: Record<string, FactValue>, personal: ReadonlySet<string>): string {
  return Object.entries(facts).map(([k, v]) => `${k}=${shownFact(k, v, personal)}`).join(', ');
}

export function filterLines(rule: CompiledRule, facts: Record<string, FactValue> | null, personal: ReadonlySet<string> = personalFacts()): string[] {
  if (!rule.filter) return [];
  return Object.entries(rule.filter).map(([field, condition]) => {
    const fact = getPath(facts ?? {}, field);
    const ok = conditionHolds(fact, condition);
    return `${ok ? 'pass' : 'FAIL'}  ${field} ${conditionText(condition)}: the customer's ${field} is ${shownFact(field, fact as FactValue | undefined, personal)}`;
  });
}

interface Context {
  ruleSet: RuleSet;
  customerId: string;
  /** Facts of scopes (time zones for quiet hours), by tag. */
  scopeFacts: (tag: string) => Record<string, FactValue> | null;
}

function episodesOf(points: readonly Point[]): { start: number; end: number | null; value: number | null }[] {
  const out: { start: number; end: number | null; value: number | null }[] = [];
  for (const p of points) {
    if (p.transition === 'fire') out.push({ start: p.at, end: null, value: p.value });
    else if (p.transition === 'clear' && out.length && out.at(-1)!.end === null) out.at(-1)!.end = p.at;
  }
  return out;
}

function valueAt(rule: CompiledRule, points: readonly Point[], time: number): string {
  let last: Point | undefined;
  for (const p of points) { if (p.at <= time) last = p; else break; }
  if (!last) return `no evaluation of ${rule.cpi.id} there yet at ${iso(time)}`;
  if (last.conditions) return `at ${iso(time)}: ${conditionResultsText(last.conditions)} (evaluated ${iso(last.at)}; rule ${last.status})`;
  return `at ${iso(time)} the ${rule.aggregate} of ${rule.cpi.id} was ${last.value === null ? 'not computed (too few samples)' : fmt(last.value)} (evaluated ${iso(last.at)}; rule ${last.status})`;
}

function presenceText(p: Presence): string {
  if (p.kind === 'enroute') return `set out for ${scopeText(p.tag)} at ${iso(p.time)} (${p.eventType}, arriving in ${formatDuration(p.etaMs ?? 0)})`;
  return `${p.eventType} at ${iso(p.time)} fed ${p.cpi} in ${scopeText(p.tag)}`;
}

export function explainRule(rule: CompiledRule, c: ExplainCollector, ctx: Context): RuleExplanation {
  const decisions = c.decisions.filter((d) => d.rule.id === rule.id);
  const header = hasConditionWords(rule) ? `per ${rule.cpi.groupBy}, ${thresholdText(rule)}` : `${rule.aggregate} of ${rule.cpi.id} per ${rule.cpi.groupBy}, ${thresholdText(rule)}`;
  if (decisions.length > 0) {
    const lines: string[] = [header];
    for (const d of decisions) {
      const fired = c.series.get(tierKey(rule.id, d.tier ?? 0))?.get(d.scopeTag)?.find((p) => p.at === d.episode && p.transition === 'fire');
      const tier = d.tier ? ` (tier ${d.tier}: ${tierWhenText(rule.tiers![d.tier - 1]!.when)})` : rule.tiers ? ' (tier 0: the rule\'s own thresholds)' : '';
      const why = `${fired?.conditions ? conditionResultsText(fired.conditions) : `${rule.aggregate} ${fmt(d.value)} ${rule.direction} ${fmt(rule.threshold)}`}${tier}`;
      const trigger = `${why} in ${scopeText(d.scopeTag)}, episode from ${iso(d.episode)}`;
      if (d.outcome === 'offered') {
        lines.push(`OFFERED at ${iso(d.time)}: ${trigger}; offer ${d.offerId} (${rule.offer.code}, rule version ${rule.version})`);
        // the texts a rule renders from its offer.template, as published
        if (d.texts) lines.push(`  title: ${JSON.stringify(d.texts.title)}${d.texts.locale ? ` (${d.texts.locale})` : ''}${d.texts.fallback ? ` (the rule's own: the template failed, CPW509: ${d.texts.fallback.reason})` : ''}`);
      }
      else lines.push(`SUPPRESSED (${d.reason}) at ${iso(d.time)}: ${trigger}; decision ${d.offerId}`, ...guardrailLines(d, c, ctx).map((l) => `  ${l}`));
    }
    if (rule.filter) lines.push('filter on customer facts (the facts at the end of the replay):', ...filterLines(rule, factsOf(ctx, c.customerId), personalFacts(ctx.ruleSet)).map((l) => `  ${l}`));
    return { ruleId: rule.id, verdict: decisions.some((d) => d.outcome === 'offered') ? 'offered' : 'suppressed', lines };
  }

  const filtered = c.filteredOut.filter((f) => f.ruleId === rule.id);
  if (filtered.length > 0) {
    const lines = [header];
    for (const f of filtered) {
      if (f.tiers) {
        const tier = (k: number) => (k === 0 ? 'tier 0 (the rule\'s own thresholds)' : `tier ${k} (${tierWhenText(rule.tiers![k - 1]!.when)})`);
        lines.push(`FILTERED OUT at ${iso(f.time)}: a candidate of ${tier(f.tiers.candidate)} in ${scopeText(f.scopeTag)} (episode from ${iso(f.episode)}), but the customer's facts put them in ${tier(f.tiers.customer)}${f.facts === null ? ' (no customer profile seen)' : ''}: only its episodes make them offers`);
        continue;
      }
      lines.push(`FILTERED OUT at ${iso(f.time)}: a candidate in ${scopeText(f.scopeTag)} (episode from ${iso(f.episode)}), but the rule's filter on customer facts did not hold${f.facts === null ? ' (no customer profile seen)' : ''}:`);
      lines.push(...filterLines(rule, f.facts, personalFacts(ctx.ruleSet)).map((l) => `  ${l}`));
    }
    return { ruleId: rule.id, verdict: 'filtered-out', lines };
  }

  const kind = rule.target.kind;
  const relevant = c.presence.filter((p) =>
    kind === 'enRoute' ? p.kind === 'enroute' : rule.target.kind === 'contributors' ? p.kind === 'contrib' && p.cpi === rule.target.audience : p.kind === 'own' && p.cpi === rule.cpi.id);
  if (relevant.length === 0) {
    const what = kind === 'enRoute' ? 'puts them en route to a store'
      : kind === 'contributors' ? `feeds ${rule.cpi.id}`
      : `feeds ${rule.cpi.id} in their own scope (${rule.cpi.groupBy}=${c.customerId})`;
    return { ruleId: rule.id, verdict: 'not-concerned', lines: [`no event of the customer ${what}: never a candidate`] };
  }
  const lines = [header];
  const byScope = new Map<string, Presence[]>();
  for (const p of relevant) byScope.set(p.tag, [...(byScope.get(p.tag) ?? []), p]);
  const audience = kind === 'enRoute' ? `customers who set out for the scope up to ${formatDuration(rule.target.withinMs)} before it fires (and not arrived by then), or while it fires`
    : kind === 'contributors' ? `customers whose events fed the CPI in the scope up to ${formatDuration(rule.target.withinMs)} before it fires, or while it fires`
    : 'the scope\'s own customer';
  lines.push(`audience when it fires: ${audience}`);
  for (const [tag, ps] of byScope) {
    const points = c.series.get(rule.id)?.get(tag) ?? [];
    const episodes = episodesOf(points);
    lines.push(`in ${scopeText(tag)}:`);
    for (const p of ps.slice(0, 5)) lines.push(`  the customer ${presenceText(p)}`);
    if (ps.length > 5) lines.push(`  ... and ${ps.length - 5} more events`);
    if (points.length === 0) { lines.push(`  NOT A CANDIDATE: ${rule.cpi.id} was never evaluated in ${scopeText(tag)} (no bucket closed there)`); continue; }
    lines.push(`  ${valueAt(rule, points, ps[0]!.time)}`);
    if (episodes.length === 0) {
      const breaching = points.filter((p) => p.value !== null);
      const peak = breaching.reduce<Point | undefined>((best, p) => (!best || (rule.direction === 'above' ? p.value! > best.value! : p.value! < best.value!) ? p : best), undefined);
      const closest = closestPoint(rule, points);
      if (closest) lines.push(`  NOT A CANDIDATE: the rule never fired in ${scopeText(tag)}; closest at ${iso(closest.at)}: ${conditionResultsText(closest.conditions!)}`);
      else lines.push(`  NOT A CANDIDATE: the rule never fired in ${scopeText(tag)}${peak ? `; its most extreme value was ${fmt(peak.value)} at ${iso(peak.at)}` : ''}`);
    } else {
      lines.push(`  the rule fired there: ${episodes.map((e) => `${iso(e.start)} (value ${fmt(e.value)}) until ${e.end === null ? 'the end of the replay' : iso(e.end)}`).join('; ')}`);
      lines.push('  NOT A CANDIDATE: the customer was in none of these episodes\' audiences:');
      const within = rule.target.kind === 'scopeCustomer' ? 0 : rule.target.withinMs;
      for (const e of episodes) {
        const p = ps.reduce((a, b) => (Math.abs(b.time - e.start) < Math.abs(a.time - e.start) ? b : a));
        const what = p.kind === 'enroute' ? 'set out' : 'last fed the CPI';
        let why: string;
        if (p.time < e.start - within) why = `${what} at ${iso(p.time)}, ${formatDuration(e.start - p.time)} before it fired; the audience looks back ${formatDuration(within)}`;
        else if (p.kind === 'enroute' && p.time + (p.etaMs ?? 0) < e.start) why = `set out at ${iso(p.time)} and was due to arrive at ${iso(p.time + (p.etaMs ?? 0))}, before it fired`;
        else if (e.end !== null && p.time >= e.end) why = `${what} at ${iso(p.time)}, after it cleared`;
        else why = `${what} at ${iso(p.time)}, within the episode's reach: a newer event of the customer may have replaced this one`;
        lines.push(`    episode from ${iso(e.start)}: ${why}`);
      }
    }
  }
  return { ruleId: rule.id, verdict: 'not-a-candidate', lines };
}

/**
 * For rules with condition words: the evaluation with the most breaching conditions, then the most
 * conditions with a value (compared, then current), then the most extreme first condition (the first of equals).
 */
function closestPoint(rule: CompiledRule, points: readonly Point[]): Point | undefined {
  const sign = rule.direction === 'above' ? 1 : -1;
  const score = (p: Point) => {
    const c = p.conditions!;
    const first = c[0]?.value ?? c[0]?.current ?? null;
    return [c.filter((x) => x.breaching).length, c.filter((x) => x.value !== null).length + c.filter((x) => x.current !== null).length, first === null ? -Infinity : sign * first];
  };
  let best: Point | undefined;
  let bestScore: number[] = [];
  for (const p of points) {
    if (!p.conditions) return undefined;
    const sc = score(p);
    const better = best === undefined || sc[0]! > bestScore[0]! || (sc[0] === bestScore[0] && (sc[1]! > bestScore[1]! || (sc[1] === bestScore[1] && sc[2]! > bestScore[2]!)));
    if (better) { best = p; bestScore = sc; }
  }
  return best;
}

function factsOf(ctx: Context, customerId: string): Record<string, FactValue> | null {
  return ctx.scopeFacts(customerTag(customerId));
}

export function formatExplanations(customerId: string, facts: Record<string, FactValue> | null, explanations: readonly RuleExplanation[], personal: ReadonlySet<string> = personalFacts()): string {
  const out = [`customer ${customerId}: ${facts ? `facts ${factsText(facts, personal)}` : 'no customer profile seen'}`];
  const label: Record<Verdict, string> = { offered: 'OFFERED', suppressed: 'SUPPRESSED', 'filtered-out': 'FILTERED OUT', 'not-a-candidate': 'NOT A CANDIDATE', 'not-concerned': 'NOT CONCERNED' };
  const order: Verdict[] = ['offered', 'suppressed', 'filtered-out', 'not-a-candidate', 'not-concerned'];
  const sorted = [...explanations].sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  const unconcerned = sorted.filter((e) => e.verdict === 'not-concerned');
  for (const e of sorted) {
    if (e.verdict === 'not-concerned' && unconcerned.length > 1) continue;
    out.push('', `${e.ruleId}: ${label[e.verdict]}`, ...e.lines.map((l) => `  ${l}`));
  }
  if (unconcerned.length > 1) {
    out.push('', `NOT CONCERNED (no event of the customer puts them in any scope of these rules; never candidates): ${unconcerned.map((e) => e.ruleId).join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}
