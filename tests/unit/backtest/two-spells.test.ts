// The shipped curbside rules on two busy spells two days apart (issue 10): the decisions do not
// depend on the batch size, and a store that went quiet after its waits went bad has its episode
// ended by stream time, so a gold customer who sets out for it two days later gets no offer on a
// two-day-old p90 of a window that is now empty.
import { describe, expect, it } from 'vitest';
import { decisionEventOf } from '../../../src/actions/offer-event.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';

const DAY = 24 * 3600_000;
const START = Date.UTC(2026, 10, 16, 16); // 10:00 in Chicago, outside quiet hours

describe('two busy spells two days apart, the shipped curbside rules', () => {
  it('decide the same for any batch size, and a quiet store\'s episode ends', async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const first = curbsideScenario({ start: START, seed: 3, stores: 3, busyStores: 2, minutes: 40, idPrefix: 'mon' });
    const second = curbsideScenario({ start: START + 2 * DAY, seed: 4, stores: 3, busyStores: 2, minutes: 40, idPrefix: 'wed' });
    const quietStore = first.stores[0]!.storeId; // busy on Monday, silent after
    const late = [
      { specversion: '1.0', id: 'late-profile', source: 'urn:test', type: 'customer.profile', time: new Date(START + 2 * DAY + 5 * 60_000).toISOString(), data: { customerId: 'late-gold', valueTier: 'gold', lifetimeValue: 2500 } },
      { specversion: '1.0', id: 'late-enroute', source: 'urn:test', type: 'customer.en-route', time: new Date(START + 2 * DAY + 10 * 60_000).toISOString(), data: { customerId: 'late-gold', storeId: quietStore, etaSeconds: 900 } },
    ];
    const events = [...first.events.map((e) => e.event), ...second.events.map((e) => e.event), ...late]
      .map((e) => ({ e, t: typeof e.time === 'number' ? e.time : Date.parse(String(e.time)) }))
      .sort((a, b) => a.t - b.t)
      .map(({ e }) => e);
    const messages: RawMessage[] = events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e)), origin: { topic: 'e', partition: 0, offset: i } }));

    const runs: string[][] = [];
    for (const batchSize of [1, 7, 100, messages.length]) {
      const sink = new CollectingSink();
      const replay = createReplay(loaded.ruleSet, { sink, batchSize });
      await replay.feed(messages);
      await replay.finish();
      runs.push(sink.decisions.map((d) => JSON.stringify(decisionEventOf(d))).sort());
    }
    for (const r of runs) expect(r).toEqual(runs[0]);

    const decisions = runs[0]!.map((d) => JSON.parse(d) as { subject: string; data: { outcome?: string; scope?: { storeId?: string } } });
    const offered = decisions.filter((d) => d.data.outcome === undefined || d.data.outcome === 'offered');
    const day = (d: { subject: string }) => (d.subject.startsWith('mon') ? 'mon' : d.subject.startsWith('wed') ? 'wed' : 'other');
    expect(offered.filter((d) => day(d) === 'mon').length, 'offers on Monday').toBeGreaterThan(0);
    expect(offered.filter((d) => day(d) === 'wed').length, 'offers on Wednesday').toBeGreaterThan(0);
    console.log(`[two spells] ${messages.length} events, ${decisions.length} decisions, ${offered.filter((d) => day(d) === "mon").length} offers Monday, ${offered.filter((d) => day(d) === "wed").length} Wednesday`);
    expect(decisions.filter((d) => d.subject === 'late-gold'), 'a decision for the customer sent to the quiet store two days later').toEqual([]);
  });
});
