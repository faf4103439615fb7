/**
 * The candidates of one owner partition waiting for their decision. A candidate is decided once
 * stream time has passed its due time (its time plus its CPI's allowed lateness: every candidate due
 * at or before it exists by then), in due order (ties: see byDecisionOrder), so cooldowns, caps and
 * budgets see a customer's candidates in one order whatever order the ops arrived in. A candidate
 * held back (not due, or the frontier's gate) holds back the later ones of its customer and of its
 * rule and scope (budgets). Pure.
 */
import type { CompiledRule } from '../rules/compiled.js';
import type { DecisionGate } from './decision-frontier.js';

export interface Candidate {
  offerId: string;
  rule: CompiledRule;
  /** The threshold tier whose episode made it (absent: the rule's own thresholds): offered only to that tier's customers. */
  tier?: number;
  /** The index of the condition whose value `value` is (absent: the first). */
  condition?: number;
  /** The breaching scope. */
  tag: string;
  /** Event time the breach episode began. */
  episode: number;
  /** The aggregate's value when the rule fired. */
  value: number;
  customerId: string;
  /** Decision time (event time): the fire time, or when the customer joined the audience. */
  time: number;
  /**
   * When it may be decided: its time plus its CPI's allowed lateness. By then every candidate due
   * before it exists (closes wait for the lateness too), so decisions go in due order in every run.
   */
  due: number;
  /** Decision order at equal times: the rule's place in the rule set, then when the customer joined. */
  rank: number;
  joined: number;
  traceparent?: string;
}

/** A candidate as persisted while it waits for its decision (the rule by id; `due` absent in older metas). */
export type PendingCandidate = Omit<Candidate, 'rule' | 'due'> & { ruleId: string; due?: number };

export class CandidateQueue {
  private pending: Candidate[] = [];

  add(c: Candidate): void {
    this.pending.push(c);
  }

  has(offerId: string): boolean {
    return this.pending.some((p) => p.offerId === offerId);
  }

  /** Candidates still waiting. */
  get waiting(): readonly Candidate[] {
    return this.pending;
  }

  /** Takes, in decision order, the candidates due before `limit` (all at +Infinity) that the gate lets through. */
  take(limit: number, gate?: Pick<DecisionGate, 'blocked'>): Candidate[] {
    if (this.pending.length === 0) return [];
    this.pending.sort(byDecisionOrder);
    const taken: Candidate[] = [];
    const kept: Candidate[] = [];
    const held = new Set<string>();
    for (const c of this.pending) {
      const inTime = c.due < limit || limit === Number.POSITIVE_INFINITY;
      const keys = [`c:${c.customerId}`, `s:${c.rule.id}:${c.tag}`];
      if (!inTime || keys.some((k) => held.has(k)) || gate?.blocked(c.customerId, decisionKeyOf(c))) {
        for (const k of keys) held.add(k);
        kept.push(c);
      } else {
        taken.push(c);
      }
    }
    this.pending = kept;
    return taken;
  }

  /** Each customer's earliest due time among the waiting candidates (the decision frontier). */
  earliestByCustomer(): Map<string, DecisionKey> {
    const out = new Map<string, DecisionKey>();
    for (const c of this.pending) {
      const t = out.get(c.customerId);
      const key = decisionKeyOf(c);
      if (t === undefined || compareDecisionKeys(key, t) < 0) out.set(c.customerId, key);
    }
    return out;
  }

  persisted(): PendingCandidate[] {
    return this.pending.map(({ rule, ...c }) => ({ ...c, ruleId: rule.id }));
  }

  /** Adds persisted candidates back (those of rules no longer loaded are dropped); `dueOf` fills an older meta's missing due. */
  restore(list: readonly PendingCandidate[], rulesById: ReadonlyMap<string, CompiledRule>, dueOf: (rule: CompiledRule, time: number) => number): void {
    for (const { ruleId, due, ...c } of list) {
      const rule = rulesById.get(ruleId);
      if (rule) this.pending.push({ ...c, due: due ?? dueOf(rule, c.time), rule });
    }
  }
}

/** Due time, event time; then the rule set's order, the scope, who joined first, the customer id. */
/**
 * Where a candidate stands in the decision order of its customer: due, time, rule order, scope, when
 * the customer joined. Published on the decision frontier, so partitions break ties as one queue would.
 */
export type DecisionKey = readonly [due: number, time: number, rank: number, tag: string, joined: number];

export function decisionKeyOf(c: Candidate): DecisionKey {
  return [c.due, c.time, c.rank, c.tag, c.joined];
}

export function compareDecisionKeys(a: DecisionKey, b: DecisionKey): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || cmp(a[3], b[3]) || a[4] - b[4];
}

function byDecisionOrder(a: Candidate, b: Candidate): number {
  return compareDecisionKeys(decisionKeyOf(a), decisionKeyOf(b)) || cmp(a.customerId, b.customerId);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
