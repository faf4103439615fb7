import { describe, expect, it } from 'vitest';
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

  it('round-trips its entries', () => {
    const e = entry(123, { a: 1, b: 2 });
    expect(decodeFrontierEntry(encodeFrontierEntry(e))).toEqual(e);
    expect(decodeFrontierEntry(encodeFrontierEntry(entry(null)))).toEqual(entry(null));
  });
});
