// Dependencies unavailable at start and during the run: the processor is alive at once, reports
// not-ready with the reason, retries with backoff (counted and logged), never exits, and resumes by
// itself when Kafka or Redis come back. Kafka is reached through a TCP relay on a free port that
// is opened late; Redis is a redis-server the test starts, stops and restarts on a free port.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Processor } from '../../../src/app/processor.js';
import { createLogger } from '../../../src/ops/logger.js';
import { freePort, produce, services, sleep, waitFor, waitForMessages } from '../../support/index.js';
import { createProcessorTopics, exampleRules, testSettings } from '../../support/processor.js';
import { startRedisServer } from '../../support/redis-server.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';

/** A TCP relay from a local port to the real broker (bootstrap only: the broker advertises itself). */
async function relay(port: number, target: string): Promise<{ close: () => Promise<void> }> {
  const [host, targetPort] = target.split(':');
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: host!, port: Number(targetPort) });
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()); }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

const redisDirs = new Map<number, string>();

/** A redis-server with an append-only file, as production runs it: a restart keeps the state (one without loses it: state-lost.test.ts). */
function redisServer(port: number): Promise<ChildProcess> {
  const dir = redisDirs.get(port) ?? mkdtempSync(join(tmpdir(), 'cpiwatch-lifecycle-redis-'));
  redisDirs.set(port, dir);
  return startRedisServer(port, dir, ['--appendfsync', 'always']);
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function readyz(port: number): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

describe('dependencies unavailable', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('waits for Kafka at start, not ready meanwhile, then runs', async () => {
    const kafkaPort = await freePort();
    const { settings, topics } = testSettings('kafka-late', { KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`, STARTUP_RETRY_MAX: '1s' });
    await createProcessorTopics(topics);
    const processor = new Processor({ settings, ruleSet: await exampleRules(), log: createLogger('silent') });
    cleanup.push(() => processor.stop());
    let started = false;
    const starting = processor.start().then(() => { started = true; });

    await waitFor(() => processor.httpPort, { what: 'the HTTP endpoint' });
    const port = processor.httpPort!;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const notReady = await waitFor(async () => {
      const r = await readyz(port);
      return r.body.checks.kafka!.detail.startsWith('unavailable (attempt 2)') ? r : undefined;
    }, { timeoutMs: 20_000, what: 'a second failed Kafka attempt on /readyz' });
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks.redis!.ok).toBe(true);
    expect(notReady.body.checks.kafka!.detail).toMatch(/ECONNREFUSED|Connection/i);
    expect(started).toBe(false);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/cpiwatch_startup_retries_total\{dependency="kafka"\} [1-9]/);

    const proxy = await relay(kafkaPort, services().kafkaBrokers[0]!);
    cleanup.push(() => proxy.close());
    await starting;
    await waitFor(async () => (await readyz(port)).status === 200, { timeoutMs: 30_000, what: 'ready once Kafka answers' });
    const scenario = opsScenario(settings.REDIS_PREFIX);
    await produce(topics.events, asProduced(scenario.profiles));
    await produce(topics.events, asProduced(scenario.rest));
    const expected = (await uninterrupted(processor.rules, scenario)).offered.length;
    expect((await waitForMessages(topics.offers, expected, { timeoutMs: 30_000, settleMs: 500 })).length).toBe(expected);
  });

  it('waits for Redis at start, survives Redis going away mid-run and resumes without skipping', async () => {
    const redisPort = await freePort();
    const { settings, topics } = testSettings('redis-late', { REDIS_URL: `redis://127.0.0.1:${redisPort}`, STARTUP_RETRY_MAX: '1s' });
    await createProcessorTopics(topics);
    const processor = new Processor({ settings, ruleSet: await exampleRules(), log: createLogger('silent') });
    cleanup.push(() => processor.stop());
    const starting = processor.start();
    await waitFor(() => processor.httpPort, { what: 'the HTTP endpoint' });
    const port = processor.httpPort!;
    const notReady = await waitFor(async () => {
      const r = await readyz(port);
      return r.body.checks.redis!.detail.startsWith('unavailable (attempt 2)') ? r : undefined;
    }, { timeoutMs: 20_000, what: 'a second failed Redis attempt on /readyz' });
    expect(notReady.status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    let redis = await redisServer(redisPort);
    cleanup.push(() => stopChild(redis));
    await starting;
    await waitFor(async () => (await readyz(port)).status === 200, { timeoutMs: 30_000, what: 'ready once Redis answers' });

    const scenario = opsScenario(settings.REDIS_PREFIX);
    await produce(topics.events, asProduced(scenario.profiles));
    await waitFor(() => processor.metrics.eventsConsumed.get().then((m) => (m.values[0]?.value ?? 0) >= scenario.profiles.length), { timeoutMs: 20_000, what: 'profiles consumed' });

    // Redis goes away while events keep coming: not ready, batches retried, nothing skipped
    await stopChild(redis);
    await produce(topics.events, asProduced(scenario.rest));
    await waitFor(async () => !(await readyz(port)).body.checks.redis!.ok, { timeoutMs: 20_000, what: 'not ready while Redis is down' });
    await waitFor(async () => ((await processor.metrics.batchErrors.get()).values[0]?.value ?? 0) > 0, { timeoutMs: 20_000, what: 'a failed batch' });
    // the failing batch is named: its partition, the code of a store outage, since when
    const stuck = await waitFor(async () => {
      const c = (await readyz(port)).body.checks.partitions;
      return c && !c.ok ? c.detail : undefined;
    }, { timeoutMs: 20_000, what: 'the stuck partition on /readyz' });
    expect(stuck).toMatch(/:\d+ stuck at offsets \d+\.\.\d+ since \d{4}-\d\d-\d\dT[^ ]+ \(\d+s, \d+ attempts\): CPW400 state store unavailable/);
    expect((await processor.metrics.batchErrors.get()).values.every((v) => v.labels.retriable === 'true' && v.labels.code === 'CPW400')).toBe(true);
    await sleep(1000);
    redis = await redisServer(redisPort);
    await waitFor(async () => (await readyz(port)).status === 200, { timeoutMs: 30_000, what: 'ready again' });
    const consumed = await waitFor(async () => {
      const v = (await processor.metrics.eventsConsumed.get()).values[0]?.value ?? 0;
      return v >= scenario.events.length ? v : undefined;
    }, { timeoutMs: 30_000, what: 'every event processed after Redis came back' });
    // each event counted once: the failed batch was retried, not skipped and not double-counted
    expect(consumed).toBe(scenario.events.length);
    // the owners apply what the routing stage forwarded (the ops topic), each event once
    const appliedNow = async () => (await processor.metrics.events.get()).values.find((v) => v.labels.outcome === 'applied')?.value ?? 0;
    await waitFor(async () => (await appliedNow()) >= scenario.events.length, { timeoutMs: 30_000, what: 'every event applied by the owners' }).catch(() => undefined);
    expect(await appliedNow()).toBe(scenario.events.length);
  });
});
