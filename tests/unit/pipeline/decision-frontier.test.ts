import { describe, expect, it } from 'vitest';
import type { DecisionKey } from '../../../src/pipeline/candidate-queue.js';
import { decisionGate, decodeFrontierEntry, encodeFrontierEntry, type FrontierEntry } from '../../../src/pipeline/decision-frontier.js';

const entry = (now: number | null, pending: Record<string, number> = {}): FrontierEntry => ({ now, pending: new Map(Object.entries(pending)) });

describe('the decision gate of an owner partition', () => {
  it('waits for every partition to have started, then lets through what all stream times passed', () => {
    expect(decisionGate(0, 2, new Map([[0, entry(100)]])).before).toBe(Number.NEGATIVE_INFINITY);
    expect(decisionGate(0, 2, new Map([[0, entry(100)], [1, entry(null)]])).before).toBe(Number.NEGATIVE_INFINITY);
    expect(decisionGate(0, 3, new Map([[0, entry(100)], [1, entry(70)], [2, entry(90)]])).before).toBe(70);
  });

  it('holds a customer back only while another partition has an earlier candidate of theirs (ties: lower partition first)', () => {
    const entries = new Map([[0, entry(100, { c1: 40 })], [1, entry(100, { c2: 50 })], [2, entry(100, { c1: 60 })]]);
    const g1 = decisionGate(1, 3, entries);
    expect(g1.blocked('c1', 45)).toBe(true); // partition 0 holds c1 at 40
    expect(g1.blocked('c1', 40)).toBe(true); // tie: partition 0 goes first
    expect(g1.blocked('c1', 39)).toBe(false);
    expect(g1.blocked('c3', 99)).toBe(false); // nobody else holds c3: no waiting on other customers
    const g0 = decisionGate(0, 3, entries);
    expect(g0.blocked('c1', 40)).toBe(false); // the earliest goes on: nothing waits for ever
    expect(g0.blocked('c1', 60)).toBe(false); // a tie with partition 2: partition 0 goes first
    expect(g0.blocked('c1', 61)).toBe(true); // after partition 2's candidate at 60
  });

  it('breaks ties of a customer\'s candidates as one queue does: by rule order, then scope, whatever partition holds them', () => {
    // one customer, two stores firing at 15:15 on the same rule: storeId=S3 on partition 1, storeId=S4 on partition 0
    const key = (tag: string, rank = 0): DecisionKey => [1000, 900, rank, tag, 800];
    const entries = new Map<number, FrontierEntry>([[0, { now: 2000, pending: new Map([['c1', key('storeId=S4')]]) }], [1, { now: 2000, pending: new Map([['c1', key('storeId=S3')]]) }]]);
    expect(decisionGate(1, 2, entries).blocked('c1', key('storeId=S3'))).toBe(false); // S3 first, though on the higher partition
    expect(decisionGate(0, 2, entries).blocked('c1', key('storeId=S4'))).toBe(true);
    // an earlier rule in the rule set goes first at equal times
    expect(decisionGate(0, 2, entries).blocked('c1', key('storeId=S9', -1))).toBe(false);
  });

  it('lets decisions through only where every partition is settled, and facts become final with stream time alone', () => {
    // partition 1 holds a close for customer facts: its candidates before 70 exist, its stream time is 100
    const g = decisionGate(0, 2, new Map<number, FrontierEntry>([[0, entry(100)], [1, { ...entry(100), settled: 70 }]]));
    expect(g.before).toBe(70);
    expect(g.factsFinal).toBe(100);
  });

  it('round-trips its entries', () => {
    const e = entry(123, { a: 1, b: 2 });
    expect(decodeFrontierEntry(encodeFrontierEntry(e))).toEqual(e);
    expect(decodeFrontierEntry(encodeFrontierEntry(entry(null)))).toEqual(entry(null));
    const keyed: FrontierEntry = { now: 5, settled: 3, pending: new Map([['c1', [4, 3, 0, 'storeId=S1', 2] as DecisionKey]]) };
    expect(decodeFrontierEntry(encodeFrontierEntry(keyed))).toEqual(keyed);
  });
});
