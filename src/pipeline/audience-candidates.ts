/**
 * The candidates of one owner partition: who a firing rule reaches (its audience at the fire time),
 * customers joining an audience while a rule fires, and the queue they wait in for their decision
 * (pipeline/candidate-queue.ts). Each candidate is made once (its offer id). Pure: the partition
 * task (pipeline/partition-task.ts) calls it from its closes and its joins, with its stream time.
 */
import { offerIdOf } from '../actions/offer-id.js';
import type { StateOp } from '../cpis/ops.js';
import { parseTag } from '../cpis/tags.js';
import type { EntityState, EpisodeRecord } from '../entities/entity-state.js';
import type { CompiledRule } from '../rules/compiled.js';
import { tierKey } from '../rules/evaluate.js';
import type { CloseTimers } from '../stream-time/close-timers.js';
import { CandidateQueue, type Candidate } from './candidate-queue.js';
import { episodesOfRule, groupOfRule } from './close-helpers.js';
import type { TaskRules } from './partition-task.js';

/** Where candidates go as they are made, with the trace of the event that made them. */
export interface CandidateSink { candidates: Candidate[] }

export class AudienceCandidates {
  readonly queue = new CandidateQueue();
  /** Offer ids made in this step (a candidate already decided is not made again in it). */
  private seen = new Set<string>();

  /** A new step of the partition. */
  step(): void {
    this.seen = new Set();
  }

  /** A rule fired in entity `e`: its audience at the fire time. */
  fire(rules: TaskRules, rule: CompiledRule, e: EntityState, ep: EpisodeRecord, out: CandidateSink, traceparent: string | undefined): void {
    const t = rule.target;
    if (t.kind === 'scopeCustomer') {
      this.add(out, rules, rule, e.tag, ep, parseTag(e.tag).value, ep.start, ep.start, traceparent);
      return;
    }
    const members = t.kind === 'enRoute'
      ? e.audience('enroute', undefined, ep.start - t.withinMs, ep.start)
      : e.audience('contrib', t.audience, ep.start - t.withinMs, ep.start);
    // customers already at the store when the breach began are not on their way to it
    const sorted = members.filter((m) => m.etaMs === undefined || m.time + m.etaMs >= ep.start)
      .sort((a, b) => a.time - b.time || (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0));
    for (const m of sorted) this.add(out, rules, rule, e.tag, ep, m.customer, ep.start, m.time, traceparent);
  }

  /**
   * A customer joined a rule's audience in entity `e` at stream time `now`: a candidate now if the
   * rule's state at that time is known, else deferred to the close of the boundary before it.
   */
  join(rules: TaskRules, e: EntityState, op: StateOp, now: number | null, timers: CloseTimers, out: CandidateSink, traceparent: string | undefined): void {
    if (op.kind !== 'enroute' && op.kind !== 'contrib') return;
    const key = op.kind === 'enroute' ? `enroute|${parseTag(e.tag).dimension}` : `contrib|${op.cpi}`;
    for (const rule of rules.audienceRules.get(key) ?? []) {
      const g = groupOfRule(rules.closeGroups, rule);
      if (!g) continue;
      const boundary = Math.floor(op.time / g.resolutionMs) * g.resolutionMs;
      const etaMs = op.kind === 'enroute' ? op.etaMs : undefined;
      // the rule's state at the join is known once the boundary before it has closed (its lateness after)
      if (now === null || now < boundary + g.latenessMs) {
        e.defer({ rule: rule.id, customer: op.customer, time: op.time, ...(etaMs !== undefined ? { etaMs } : {}) });
        e.touch('m');
        timers.schedule(e.tag, g.id, boundary, g.latenessMs);
        continue;
      }
      this.checkJoin(rules, rule, e, op.customer, op.time, etaMs, out, traceparent);
    }
  }

  /** A customer in a rule's audience at `time`: a candidate of each episode they are in. */
  checkJoin(rules: TaskRules, rule: CompiledRule, e: EntityState, customer: string, time: number, etaMs: number | undefined, out: CandidateSink, traceparent: string | undefined): void {
    const within = 'withinMs' in rule.target ? rule.target.withinMs : 0;
    for (const ep of episodesOfRule(rule, e)) {
      if (ep.start <= time && (ep.end === null || time < ep.end)) {
        this.add(out, rules, rule, e.tag, ep, customer, time, time, traceparent);
      } else if (time < ep.start && time >= ep.start - within && (etaMs === undefined || time + etaMs >= ep.start)) {
        // arrived after the fire, but was on the way when it fired: the fire-time audience's
        this.add(out, rules, rule, e.tag, ep, customer, ep.start, time, traceparent);
      }
    }
  }

  private add(out: CandidateSink, rules: TaskRules, rule: CompiledRule, tag: string, ep: EpisodeRecord, customerId: string, time: number, joined: number, traceparent: string | undefined): void {
    // a tier's episode is its own: two tiers firing at one boundary make two candidates (the customer's tier's is offered)
    const offerId = offerIdOf(tierKey(rule.id, ep.tier ?? 0), customerId, tag, ep.start);
    if (this.seen.has(offerId) || this.queue.has(offerId)) return;
    this.seen.add(offerId);
    const c: Candidate = { offerId, rule, tag, episode: ep.start, value: ep.value, customerId, time, due: dueOf(rules, rule, time), rank: rules.ruleOrder.get(rule.id) ?? 0, joined, ...(ep.tier ? { tier: ep.tier } : {}), ...(ep.condition ? { condition: ep.condition } : {}), ...(traceparent ? { traceparent } : {}) };
    out.candidates.push(c);
    this.queue.add(c);
  }
}

/** When a candidate at `time` of `rule` may be decided: its time plus its close group's allowed lateness. */
export function dueOf(rules: TaskRules, rule: CompiledRule, time: number): number {
  return time + (groupOfRule(rules.closeGroups, rule)?.latenessMs ?? 0);
}
