// The same stream delivered twice at new offsets, on the real stack (a producer retrying a whole
// batch, a topic re-published): the curbside scenario, then all of it again on the same topic. An
// event is its CloudEvents source and id, so every event of the second copy counts duplicate (or late,
// once its step's close is due; a duration start whose pair joined waits again, alone) and nothing changes: the offers and decisions are those of one
// delivery, each once; the cpiwatch_events_total outcomes add up to twice the input.
import { afterAll, describe, expect, it } from 'vitest';
import { produce, waitFor, waitForMessages } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { asProduced, opsScenario, uninterrupted } from '../ops/scenario.js';
import { metricSum } from '../../support/metrics.js';


describe('a stream delivered twice at new offsets', () => {
  let running: RunningProcessor | undefined;
  afterAll(async () => { await running?.stop(); });

  it('changes no offer and no decision: the second copy counts duplicate or late', async () => {
    const { settings, topics } = testSettings('redeliver');
    const ruleSet = await exampleRules();
    const scenario = opsScenario(settings.REDIS_PREFIX);
    const clean = await uninterrupted(ruleSet, scenario);
    expect(clean.offered.length).toBeGreaterThan(0);
    running = await startProcessor({ settings, topics, ruleSet, partitions: 3 });
    const { processor } = running;
    const once = [...asProduced(scenario.profiles), ...asProduced(scenario.rest)];
    await produce(topics.events, once);
    const first = await waitFor(async () => {
      const t = await processor.metrics.registry.metrics();
      return metricSum(t, 'cpiwatch_events_total') === once.length ? t : undefined;
    }, { timeoutMs: 60_000, what: 'the first copy consumed and counted' });
    await waitForMessages(topics.offers, clean.offered.length, { timeoutMs: 60_000, settleMs: 2000 });
    // the whole stream again, at new offsets
    await produce(topics.events, once);
    const total = 2 * once.length;
    const text = await waitFor(async () => {
      const t = await processor.metrics.registry.metrics();
      return metricSum(t, 'cpiwatch_events_total') === total ? t : undefined;
    }, { timeoutMs: 90_000, what: 'both copies consumed and counted' });
    const outcome = (o: string) => metricSum(text, 'cpiwatch_events_total', `outcome="${o}"`);
    // the second copy changed nothing. Its events count duplicate or late, but for the duration
    // starts whose pair had joined: such a start waits again as a lone half (counted applied), which
    // no window reads; a repeated end cannot complete a pair twice (duplicate, or late once the
    // step is closed)
    const starts = scenario.rest.filter((e) => e.event.type === 'curbside.arrived').length;
    const again = outcome('applied') - metricSum(first, 'cpiwatch_events_total', 'outcome="applied"');
    expect(again).toBeLessThanOrEqual(starts);
    expect(outcome('duplicate')).toBeGreaterThan(0);
    expect(outcome('dead_lettered')).toBe(0);
    const offers = await waitForMessages(topics.offers, clean.offered.length, { timeoutMs: 30_000, settleMs: 3000 });
    expect(offers.map((m) => (m.json as { id: string }).id).sort()).toEqual(clean.offered.map((d) => d.offerId).sort());
    const decisions = await waitForMessages(topics.decisions, clean.decisions.length, { timeoutMs: 30_000, settleMs: 1000 });
    expect(decisions.map((m) => (m.json as { id: string }).id).sort()).toEqual(clean.decisions.map((d) => d.offerId).sort());
    console.log(`[redelivery] ${once.length} events twice (${again} duration starts waiting again): applied ${outcome('applied')}, duplicate ${outcome('duplicate')}, late ${outcome('late')}, unmatched ${outcome('unmatched')}; ${offers.length} offers and ${decisions.length} decisions, as one delivery`);
  }, 240_000);
});
