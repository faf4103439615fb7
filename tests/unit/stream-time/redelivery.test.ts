// An event is its CloudEvents source and id: delivered again at a new offset (a producer retrying, a
// stream published twice) it changes no window and no offer, for every kind of CPI (a duration, a
// value, a ratio). Repeats within the lateness count as duplicates; a whole stream replayed after
// itself is late. The same in `run` and `backtest` (one core).
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { mixedScenario } from '../../../src/samples/mixed-scenario.js';
import { asMessages, localRun, type LocalRun } from '../../support/local-run.js';

const START = Date.UTC(2026, 10, 20, 15);

const run = (ruleSet: RuleSet, events: object[]) => localRun(ruleSet, asMessages(events), 200);

describe('events delivered again', () => {
  let ruleSet: RuleSet;
  let stream: { time: string; id: string }[];
  let once: LocalRun;

  beforeAll(async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml', 'rules/returns.yaml', 'rules/engagement.yaml']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    const ev = (id: string, type: string, time: number, data: Record<string, unknown>) =>
      ({ specversion: '1.0', id, source: 'urn:test:redelivery', type, time: new Date(time).toISOString(), data });
    const curbside = mixedScenario({ start: START, seed: 8, minutes: 60, customers: 300, disorderMs: 0, duplicateRate: 0 }).events.map((e) => e.event as unknown as { time: string; id: string });
    // a value CPI (steps of a return, per channel) and a ratio CPI (engaged over sent messages, per customer)
    const returns = Array.from({ length: 14 }, (_, i) => ev(`ret-${i}`, 'return.completed', START + i * 5 * 60_000, { returnId: `r${i}`, customerId: `rc${i}`, channel: 'online', steps: 5 + (i % 3), durationSeconds: 3600 }));
    const messages = Array.from({ length: 12 }, (_, i) => ev(`msg-${i}`, 'message.sent', START + i * 4 * 60_000, { messageId: `m${i}`, customerId: 'quiet-1', channel: 'email', campaign: 'c' }));
    // the same id from another source is another event
    const elsewhere = ev('ret-0', 'return.completed', START + 30 * 60_000, { returnId: 'r-x', customerId: 'rcx', channel: 'online', steps: 9, durationSeconds: 3600 });
    stream = [...curbside, ...returns, ...messages, { ...elsewhere, source: 'urn:test:elsewhere' }].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    once = await run(ruleSet, stream);
  }, 60_000);

  it('the stream alone fires rules on all three kinds of CPI and makes offers', () => {
    for (const cpi of ['curbside-flash-drink', 'hard-returns-voucher', 're-engage-quiet-customers']) expect(once.evaluations.some((e) => e.startsWith(`${cpi} `) && e.endsWith(' fire')), cpi).toBe(true);
    expect(once.decisions.length).toBeGreaterThan(5);
    expect(once.counts.duplicate).toBe(0);
  });

  it('every event again right after itself: counted duplicate, nothing else changes', async () => {
    const twice = await run(ruleSet, stream.flatMap((e) => [e, e]));
    expect(twice.evaluations).toEqual(once.evaluations);
    expect(twice.decisions).toEqual(once.decisions);
    expect(twice.counts.applied).toBe(once.counts.applied);
    expect(twice.counts.duplicate).toBeGreaterThan(0.9 * stream.length);
  });

  it('every event again a few minutes later, interleaved with the rest (within the lateness): nothing changes', async () => {
    const later = stream.map((e, i) => ({ e, at: Date.parse(e.time), i })).concat(stream.map((e, i) => ({ e, at: Date.parse(e.time) + 90_000, i })))
      .sort((a, b) => a.at - b.at || a.i - b.i).map((x) => x.e);
    const got = await run(ruleSet, later);
    expect(got.evaluations).toEqual(once.evaluations);
    expect(got.decisions).toEqual(once.decisions);
  });

  it('the whole stream published twice, one copy after the other: nothing changes', async () => {
    const got = await run(ruleSet, [...stream, ...stream]);
    expect(got.evaluations).toEqual(once.evaluations);
    expect(got.decisions).toEqual(once.decisions);
  });

});
