// Hot reload on a running processor (real Kafka and Redis): a valid edit of a threshold changes
// behaviour mid-stream, an invalid edit changes nothing, and no event is lost or counted twice
// across the reloads (the owner partition's persisted window equals a replay of the same events).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchProcessorRules, type ReloadResult, type RulesWatcher } from '../../../src/app/rules-watcher.js';
import { tagOf } from '../../../src/cpis/tags.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { buildRouting } from '../../../src/cpis/routing.js';
import { PartitionTask } from '../../../src/pipeline/partition-task.js';
import { taskRulesOf } from '../../../src/pipeline/task-rules.js';
import { RedisKeys } from '../../../src/store/redis/keys.js';
import { deleteKeys, produce, redisClient, waitFor, waitForMessages, withRedis } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';

const START = Date.UTC(2026, 10, 20, 18, 0, 0); // noon in Chicago
const at = (minutes: number) => new Date(START + minutes * 60_000).toISOString();

function scenario(p: string) {
  const ev: { time: number; key: string; event: Record<string, unknown> }[] = [];
  let n = 0;
  const emit = (minutes: number, key: string, type: string, data: Record<string, unknown>) =>
    ev.push({ time: minutes, key, event: { specversion: '1.0', id: `${p}-${++n}`, source: 'urn:cpiwatch:test', type, time: at(minutes), data } });
  const store = `${p}-S1`;
  emit(0, store, 'store.profile', { storeId: store, timeZone: 'America/Chicago' });
  for (const c of ['c1', 'c2', 'c3']) emit(0, `${p}-${c}`, 'customer.profile', { customerId: `${p}-${c}`, valueTier: 'gold', lifetimeValue: 1800 });
  emit(2, store, 'customer.en-route', { customerId: `${p}-c1`, storeId: store, etaSeconds: 1500 });
  emit(2, store, 'customer.en-route', { customerId: `${p}-c2`, storeId: store, etaSeconds: 1500 });
  emit(18, store, 'customer.en-route', { customerId: `${p}-c3`, storeId: store, etaSeconds: 600 });
  for (let i = 0; i < 40; i++) {
    emit(1 + i * 0.5, store, 'curbside.arrived', { orderId: `${p}-o${i}`, storeId: store, customerId: `${p}-w${i}`, promisedWaitSeconds: 300 });
    emit(11 + i * 0.5, store, 'curbside.handed-over', { orderId: `${p}-o${i}`, storeId: store }); // twice the promise
  }
  ev.sort((a, b) => a.time - b.time);
  return { store, events: ev };
}

describe('hot reload on a running processor', () => {
  // idle marks do not move stream time: it stays at the last event's, as the replay's
  const { settings, topics } = testSettings('hot-reload', { IDLE_ADVANCE: 'none' });
  const p = settings.KAFKA_GROUP_ID.slice(-10);
  const { store, events } = scenario(p);
  let running: RunningProcessor;
  let watcher: RulesWatcher;
  let dir: string;
  let curbside: string;
  const reloads: ReloadResult[] = [];

  const consumed = async () => (await running.processor.metrics.eventsConsumed.get()).values[0]?.value ?? 0;
  const send = async (from: number, to: number) => {
    const batch = events.filter((e) => e.time >= from && e.time < to);
    await produce(topics.events, batch.map((e) => ({ key: e.key, value: e.event })));
    const total = events.filter((e) => e.time < to).length;
    await waitFor(async () => (await consumed()) === total, { timeoutMs: 20_000, what: `${total} events consumed` });
  };
  const edit = async (text: string) => {
    const before = reloads.length;
    await writeFile(join(dir, 'curbside.yaml'), text);
    return waitFor(() => reloads.length > before && reloads.at(-1), { timeoutMs: 10_000, what: 'a reload' });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpiwatch-hot-reload-'));
    // no holdout: the customer ids change with every run
    curbside = (await readFile('rules/curbside.yaml', 'utf8')).replace(/\n    email:[\s\S]*$/, '\n').replace('holdoutPercent: 10', 'holdoutPercent: 0');
    // starts with a threshold no wait reaches
    await writeFile(join(dir, 'curbside.yaml'), curbside.replace('above: 1.25', 'above: 5'));
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules([dir]) });
    watcher = watchProcessorRules(running.processor, dir, pino({ level: 'silent' }), { debounceMs: 100, signal: null, onReload: (r) => reloads.push(r) });
    await watcher.start();
  });

  afterAll(async () => {
    await watcher?.stop();
    await running?.stop();
    await withRedis((r) => deleteKeys(r, settings.REDIS_PREFIX));
  });

  it('applies a valid edit mid-stream, ignores an invalid one, and loses or doubles no event', async () => {
    const v1 = running.processor.rules.version;
    await send(0, 13); // waits at twice the promise since +11m: nothing fires at a threshold of 5

    const ok = await edit(curbside); // threshold back to 1.25
    expect(ok).toMatchObject({ result: 'ok', previousVersion: v1 });
    const v2 = running.processor.rules;
    expect(v2.version).not.toBe(v1);
    expect((await running.processor.metrics.ruleReloads.get()).values).toEqual([expect.objectContaining({ labels: { result: 'ok' }, value: 1 })]);

    await send(13, 17.5); // the breach from +14m holds for `for: 2m`: fires at +16m
    const rejected = await edit(curbside.replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 1.25, clear: 1.5 }\n    cooldwn: 1h'));
    expect(rejected.result).toBe('rejected');
    expect(rejected.result === 'rejected' && rejected.errors.map((e) => e.code)).toEqual(expect.arrayContaining(['CPW302', 'CPW308']));
    expect(running.processor.rules).toBe(v2);

    await send(17.5, 100); // c3 sets out at +18m while the rule still fires: offered under the same rules
    const offers = (await waitForMessages(topics.offers, 3, { timeoutMs: 15_000, settleMs: 500 })).map((m) => m.json as { subject: string; time: string; data: { rule: { version: string } } });
    expect(offers.map((o) => [o.subject, o.time]).sort()).toEqual([[`${p}-c1`, at(16)], [`${p}-c2`, at(16)], [`${p}-c3`, at(18)]]);
    const version = v2.rules.find((r) => r.id === 'curbside-flash-drink')!.version;
    expect(offers.every((o) => o.data.rule.version === version)).toBe(true);
    const reloadCounts = Object.fromEntries((await running.processor.metrics.ruleReloads.get()).values.map((v) => [v.labels.result, v.value]));
    expect(reloadCounts).toEqual({ ok: 1, rejected: 1 });

    // every event applied exactly once: the processor's Redis window equals a replay of the events
    const outcomes = Object.fromEntries((await running.processor.metrics.events.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(outcomes).toEqual({ applied: events.length });
    // the owner partition's persisted window equals the same events through the local engine
    const cpi = 'curbside-wait-vs-promise';
    const tag = tagOf('storeId', store);
    const client = redisClient();
    const keys = new RedisKeys(settings.REDIS_PREFIX);
    const fields = new Map(Object.entries(await client.hgetall(keys.partitionEntities(`${settings.KAFKA_GROUP_ID}.ops:0`))));
    await client.quit();
    const rules = taskRulesOf(v2, buildRouting(v2));
    const live = PartitionTask.restore(0, 1, rules, fields, null).entities.get(tag)?.windows.get(cpi);
    const replay = createReplay(v2);
    await replay.feed(events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'x', partition: 0, offset: i } })));
    const expected = replay.engine.task.entities.get(tag)?.windows.get(cpi);
    expect(live?.buckets.size).toBeGreaterThan(0);
    expect(live?.buckets).toEqual(expected?.buckets);
  });
});
