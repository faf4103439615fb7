// Redis losing the state is loud (real broker and Redis): a processor at work whose keys all vanish
// (as after a restart without persistence, or a flush) goes not ready within seconds with the
// reason, counts it and stops processing: nothing consumed after it publishes an offer. A processor
// started on the same group afterwards (its owners have committed offsets, Redis has nothing) does
// the same at start. A first start on an empty Redis is no loss.
import { afterAll, describe, expect, it } from 'vitest';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';
import { deleteKeys, produce, sleep, waitFor, waitForMessages, withRedis } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';

const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

describe('Redis loses the state', () => {
  const running: RunningProcessor[] = [];
  const { settings, topics } = testSettings('state-lost');
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop().catch(() => undefined)));
    await withRedis((r) => deleteKeys(r, `{${settings.REDIS_PREFIX}:`));
  });

  const send = (events: { key: string; event: object }[]) =>
    produce(topics.events, events.map((e) => ({ key: e.key, value: JSON.stringify(e.event), headers: { 'content-type': CE_JSON } })));
  const stateCheck = (r: RunningProcessor) => r.processor.health.report().checks.state;

  it('while running: not ready with the reason within seconds, counted, and nothing processed after', async () => {
    const ruleSet = await exampleRules();
    const first = curbsideScenario({ start: Date.now() - 50 * 60_000, seed: 5, stores: 2, busyStores: 1, minutes: 20, idPrefix: `${settings.REDIS_PREFIX}-a` });
    const r = await startProcessor({ settings, topics, ruleSet, partitions: 2 });
    running.push(r);
    expect(stateCheck(r)).toEqual({ ok: true, detail: 'not lost' });
    await send(first.events);
    await waitFor(async () => (await r.processor.metrics.eventsConsumed.get()).values[0]?.value === first.events.length, { timeoutMs: 60_000, what: 'the first events consumed' });
    expect(r.processor.health.ready).toBe(true);

    const lostAt = Date.now();
    await withRedis((redis) => deleteKeys(redis, `{${settings.REDIS_PREFIX}:`));
    await waitFor(() => !stateCheck(r).ok, { timeoutMs: 10_000, intervalMs: 100, what: 'the state check to fail' });
    console.log(`[state lost] detected ${Date.now() - lostAt} ms after the keys went`);
    expect(stateCheck(r).detail).toMatch(/^lost: the state marker disappeared/);
    expect(r.processor.health.ready).toBe(false);
    expect((await r.processor.metrics.stateLost.get()).values[0]?.value).toBe(1);

    // a store that goes bad now makes no offer: nothing is processed on the empty state
    const offersBefore = (await waitForMessages(topics.offers, 0, { timeoutMs: 3000, settleMs: 1000 })).length;
    const second = curbsideScenario({ start: Date.now() - 25 * 60_000, seed: 6, stores: 2, busyStores: 2, minutes: 20, idPrefix: `${settings.REDIS_PREFIX}-b` });
    await send(second.events);
    await sleep(6000);
    expect((await waitForMessages(topics.offers, 0, { timeoutMs: 3000, settleMs: 1000 })).length).toBe(offersBefore);
    await r.stop();
    running.splice(running.indexOf(r), 1);
  }, 180_000);

  it('at start: a processor on the same group finds no state although its owners committed offsets', async () => {
    await withRedis((redis) => deleteKeys(redis, `{${settings.REDIS_PREFIX}:`));
    const r = await startProcessor({ settings, topics, ruleSet: await exampleRules(), createTopics: false });
    running.push(r);
    expect(stateCheck(r).ok).toBe(false);
    expect(stateCheck(r).detail).toMatch(/no state in Redis .* has committed offsets/);
    expect(r.processor.health.ready).toBe(false);
  }, 120_000);

  it('a first start on an empty Redis is not a loss', async () => {
    const fresh = testSettings('state-fresh');
    const r = await startProcessor({ settings: fresh.settings, topics: fresh.topics, ruleSet: await exampleRules() });
    running.push(r);
    await waitFor(() => r.processor.health.ready, { timeoutMs: 60_000, what: 'ready' });
    expect(stateCheck(r)).toEqual({ ok: true, detail: 'not lost' });
    await r.stop();
    await withRedis((redis) => deleteKeys(redis, `{${fresh.settings.REDIS_PREFIX}:`));
  }, 120_000);
});
