// The join of cpiwatch lift: which customer counts in which arm, and which outcome counts.
import { describe, expect, it } from 'vitest';
import { decisionOf, type LiftDecision } from '../../../src/lift/decision-record.js';
import { convertedWithin, joinDecisions, OutcomeIndex } from '../../../src/lift/join.js';
import { decisionEvent } from '../../support/lift-scenario.js';

const H = 7 * 86_400_000;
const T0 = Date.parse('2026-11-02T09:00:00Z');
let n = 0;
const d = (customerId: string, time: number, outcome: 'offered' | 'holdout' | 'quiet-hours' | 'budget', ruleId = 'r1'): LiftDecision => ({
  offerId: `offer-${n++}`, ruleId, ruleVersion: 'v1', customerId, time,
  outcome: outcome === 'offered' ? 'offered' : 'suppressed', ...(outcome === 'offered' ? {} : { reason: outcome }),
});
const outcomes = (entries: [string, number][]) => {
  const index = new OutcomeIndex();
  for (const [c, t] of entries) index.add(c, t);
  return index.view();
};
const join = (decisions: LiftDecision[], times: [string, number][], observedUntil: number | null = T0 + 100 * H) =>
  joinDecisions(decisions, outcomes(times), { horizonMs: H, observedUntil });

describe('the horizon', () => {
  it('counts an outcome later than the decision and at most the horizon after it: (decision, decision + horizon]', () => {
    const r = join([d('at', T0, 'offered'), d('just-after', T0, 'offered'), d('edge', T0, 'offered'), d('past', T0, 'offered'), d('before', T0, 'offered')],
      [['at', T0], ['just-after', T0 + 1], ['edge', T0 + H], ['past', T0 + H + 1], ['before', T0 - 60_000]]);
    expect(r.rules[0]!.treated).toEqual({ customers: 5, converted: 2, open: 0 });
  });

  it('an outcome before the decision does not count, one after it does (sorted on read)', () => {
    const times = outcomes([['c', T0 + 5000], ['c', T0 - 5000], ['c', T0 + 2 * H]]).get('c')!;
    expect(times).toEqual([T0 - 5000, T0 + 5000, T0 + 2 * H]);
    expect(convertedWithin(times, T0, H)).toBe(true);
    expect(convertedWithin(times, T0 + 5000, H)).toBe(false);
    expect(convertedWithin(undefined, T0, H)).toBe(false);
  });

  it('a decision whose horizon ends after the last event read is open: in neither rate', () => {
    const r = join([d('a', T0, 'offered'), d('b', T0 + 2 * H, 'offered'), d('c', T0 + 2 * H, 'holdout')], [['a', T0 + 1], ['b', T0 + 2 * H + 1]], T0 + 2 * H);
    expect(r.rules[0]!.treated).toEqual({ customers: 1, converted: 1, open: 1 });
    expect(r.rules[0]!.heldOut).toEqual({ customers: 0, converted: 0, open: 1 });
    expect(join([d('a', T0, 'offered')], [], null).rules[0]!.treated.open).toBe(1);
  });
});

describe('arms', () => {
  it('offered customers are treated, the holdout group the control; other suppressions in neither, by reason', () => {
    const r = join([d('o1', T0, 'offered'), d('o2', T0, 'offered'), d('h1', T0, 'holdout'), d('q1', T0, 'quiet-hours'), d('b1', T0, 'budget'), d('b2', T0, 'budget')],
      [['o1', T0 + 10], ['h1', T0 + 10], ['q1', T0 + 10]]).rules[0]!;
    expect(r.treated).toEqual({ customers: 2, converted: 1, open: 0 });
    expect(r.heldOut).toEqual({ customers: 1, converted: 1, open: 0 });
    expect(r.otherSuppressed).toEqual({ 'quiet-hours': 1, budget: 2 });
  });

  it('intention to treat (treated: assigned): every customer not held out is treated, but for those the kill switch stopped before the holdout', () => {
    const decisions = [d('o1', T0, 'offered'), d('q1', T0, 'quiet-hours'), d('b1', T0, 'budget'), d('h1', T0, 'holdout'), { ...d('k1', T0, 'budget'), reason: 'kill-switch' as const }];
    const r = joinDecisions(decisions, outcomes([['q1', T0 + 10], ['h1', T0 + 10]]), { horizonMs: H, observedUntil: T0 + 100 * H, treated: 'assigned' }).rules[0]!;
    expect(r.treated).toEqual({ customers: 3, converted: 1, open: 0 });
    expect(r.heldOut).toEqual({ customers: 1, converted: 1, open: 0 });
    expect(r.otherSuppressed).toEqual({ 'kill-switch': 1 });
  });

  it('a customer decided twice under a rule counts once, with the first decision', () => {
    // converted 8 days after the first decision, 1 day after the second: not within the first one's horizon
    const r = join([d('c', T0 + H, 'offered'), d('c', T0, 'offered'), d('h', T0, 'holdout'), d('h', T0 + H, 'holdout')], [['c', T0 + H + 86_400_000], ['h', T0 + H + 1]]).rules[0]!;
    expect(r.treated).toEqual({ customers: 1, converted: 0, open: 0 });
    expect(r.heldOut).toEqual({ customers: 1, converted: 0, open: 0 });
    expect(r.repeats).toBe(2);
  });

  it('a customer first held back by quiet hours, then offered, counts as offered from the offer on', () => {
    const r = join([d('c', T0, 'quiet-hours'), d('c', T0 + 3_600_000, 'offered')], [['c', T0 + 60_000]]).rules[0]!;
    expect(r.treated).toEqual({ customers: 1, converted: 0, open: 0 });
    expect(r.otherSuppressed).toEqual({});
    expect(r.repeats).toBe(1);
  });

  it('rules are measured apart: the same customer may be offered by one and held out by another', () => {
    const r = join([d('c', T0, 'offered', 'a'), d('c', T0, 'holdout', 'b')], [['c', T0 + 1]]);
    expect(r.rules.map((x) => [x.ruleId, x.treated.converted, x.heldOut.converted])).toEqual([['a', 1, 0], ['b', 0, 1]]);
  });

  it('the same offer id read twice (offers and decisions topics) counts once', () => {
    const one = d('c', T0, 'offered');
    const r = join([one, { ...one }], [['c', T0 + 1]]);
    expect(r.duplicateDecisions).toBe(1);
    expect(r.rules[0]!.treated.customers).toBe(1);
    expect(r.rules[0]!.repeats).toBe(0);
  });
});

describe('decision records', () => {
  it('reads decision events and offer events; anything else is a problem with its reason', () => {
    const event = decisionEvent({ ruleId: 'r1', customerId: 'c1', time: T0, outcome: 'suppressed', reason: 'holdout' });
    expect(decisionOf(JSON.stringify(event))).toEqual({ decision: { offerId: event.id, ruleId: 'r1', ruleVersion: 'v-1a2b3c', customerId: 'c1', outcome: 'suppressed', reason: 'holdout', time: T0 } });
    expect(decisionOf('{not json')).toMatchObject({ problem: expect.stringMatching(/^not JSON/) });
    expect(decisionOf(null)).toEqual({ problem: 'empty record' });
    expect(decisionOf(JSON.stringify({ type: 'order.placed' }))).toMatchObject({ problem: expect.stringContaining('neither cpiwatch.offer.v1 nor cpiwatch.decision.v1') });
    const data = event.data as Record<string, unknown>;
    expect(decisionOf(JSON.stringify({ ...event, data: { ...data, customerId: 7 } }))).toMatchObject({ problem: expect.stringContaining('data.customerId') });
    const { reason: _r, ...noReason } = data;
    expect(decisionOf(JSON.stringify({ ...event, data: noReason }))).toEqual({ problem: 'a suppressed decision without its reason' });
  });
});
