// Watermark alignment on the real broker: the curbside scenario keyed by order (or customer) id on
// four partitions, consumed as a backlog. Each store's events arrive through all four partitions,
// processed side by side; without alignment a partition runs minutes ahead and its events move the
// store's window on, so the other partitions' events of that store are counted late. With the bound
// (half the smallest allowedLateness) no event is late. Either way no offer id goes out twice (the
// ledger leaves publishing to the partition that decided it first). That the offer ids equal the
// backtest's needs stream time in production (the entities' own clocks still close buckets at
// moments that depend on the interleaving): see issue 10 and docs/performance.md.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, produce, runCli, waitFor, waitForMessages, withRedis } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { scenarioEvents, writeScenarioRules } from '../rules/scenario.js';

const keyOf = (e: { event: { data: Record<string, unknown> } }) => String(e.event.data.orderId ?? e.event.data.customerId ?? e.event.data.storeId);

async function backlogRun(label: string, bound: string, rulesDir: string, events: ReturnType<typeof scenarioEvents>): Promise<{ late: number; offers: string[]; running: RunningProcessor }> {
  const { settings, topics } = testSettings(label, { ALIGNMENT_BOUND: bound });
  const { createProcessorTopics } = await import('../../support/processor.js');
  await createProcessorTopics(topics, 4);
  for (let i = 0; i < events.length; i += 500) await produce(topics.events, events.slice(i, i + 500).map((e) => ({ key: keyOf(e), value: e.event as unknown as Record<string, unknown> })));
  const running = await startProcessor({ settings, topics, ruleSet: await exampleRules([rulesDir]), createTopics: false });
  await waitFor(async () => (await running.processor.metrics.eventsConsumed.get()).values[0]?.value === events.length, { timeoutMs: 60_000, what: `${events.length} events consumed (${label})` });
  const outcomes = Object.fromEntries((await running.processor.metrics.events.get()).values.map((v) => [v.labels.outcome, v.value]));
  const offers = (await waitForMessages(topics.offers, 1, { timeoutMs: 20_000, settleMs: 1500 })).map((m) => (m.json as { id: string }).id).sort();
  return { late: outcomes.late ?? 0, offers, running };
}

describe('watermark alignment of the input partitions', () => {
  const runs: RunningProcessor[] = [];
  afterAll(async () => {
    for (const r of runs) {
      await r.stop();
      await withRedis((redis) => deleteKeys(redis, r.settings.REDIS_PREFIX));
    }
  });

  it('counts no event late, and publishes no offer id twice, when a store\'s events come through four partitions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-alignment-'));
    const rulesDir = join(dir, 'rules');
    await writeScenarioRules(rulesDir);
    const events = scenarioEvents('aln');
    const eventsFile = join(dir, 'events.ndjson');
    await writeFile(eventsFile, events.map((e) => JSON.stringify(e.event)).join('\n'));
    const backtest = await runCli(['backtest', '--rules', rulesDir, '--events', eventsFile]);
    expect(backtest.code, backtest.err).toBe(0);
    const expected = backtest.out.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { id: string }).id).sort();

    const off = await backlogRun('alignment-off', 'off', rulesDir, events);
    runs.push(off.running);
    const aligned = await backlogRun('alignment-on', 'auto', rulesDir, events);
    runs.push(aligned.running);
    if (process.env.SHOW_ALIGNMENT) console.log({ lateWithout: off.late, lateWith: aligned.late, offersWithout: off.offers.length, uniqueWithout: new Set(off.offers).size, offersWith: aligned.offers.length, uniqueWith: new Set(aligned.offers).size, expected: expected.length, missing: expected.filter((x) => !aligned.offers.includes(x)).length, extra: [...new Set(aligned.offers)].filter((x) => !expected.includes(x)).length });
    expect(aligned.late).toBe(0);
    for (const run of [off, aligned]) expect(run.offers).toEqual([...new Set(run.offers)]);
    expect(new Set(aligned.offers).size).toBeGreaterThan(10);
  }, 180_000);
});
