// Faults while a processor works through a curbside stream: Redis restarted, Redis stalled
// (DEBUG SLEEP), the Kafka broker restarted, the SMTP server down. In each case the processor
// (in-process, so its health can be watched) does not crash, reports not ready on /readyz while the
// fault lasts (except SMTP: see that test), recovers by itself, and ends with exactly the offers,
// decisions and windows of a fault-free run of the same input (the local engine), each offer
// once on the offers topic and e-mailed once.
//
// Redis runs as a dedicated redis-server on a free port (AOF on, so a restart keeps the state, as a
// production Redis with persistence would); the broker restart uses a dedicated KRaft broker started
// with scripts/stack.sh in a temporary stack dir (~5 s), so the shared broker other tests use is
// never touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import kafkajs, { type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfferData, WireCloudEvent } from '../../../src/actions/offer-event.js';
import { Processor } from '../../../src/app/processor.js';
import { loadSettings } from '../../../src/config/settings.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { tagOf } from '../../../src/cpis/tags.js';
import { createLogger } from '../../../src/ops/logger.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { services, startSmtpServer, uniqueNames, waitFor, type TestSmtpServer } from '../../support/index.js';
import { exampleRules } from '../../support/processor.js';
import { curbsideStream, endStateOf, freePort, readWindows, ROOT, sleep, waitDrained, type Stream, type WindowsState } from './harness.js';

const run = promisify(execFile);
const EVENTS = 4000;

// ---------------------------------------------------------------------------------------------
// The fault-free reference: the same input through the in-memory pipeline

interface Expected { offers: string[]; decisions: string[]; windows: WindowsState }

async function reference(stream: Stream, ruleSet: RuleSet): Promise<Expected> {
  const sink = new CollectingSink();
  // the run's idle marks do not move stream time (IDLE_ADVANCE=none): its stream time ends at the
  // last event's, as the replay's does without finish()
  const replay = createReplay(ruleSet, { sink, batchSize: 250 });
  const all = [...stream.profiles, ...stream.rest];
  await replay.feed(all.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'ref', partition: 0, offset: i } })));
  const { windows } = endStateOf(replay.engine.task.entities, stream.scenario.stores.map((s) => tagOf('storeId', s.storeId)));
  return {
    offers: sink.offers.map((d) => d.offerId).sort(),
    decisions: sink.decisions.map((d) => `${d.offerId} ${d.outcome} ${d.reason ?? ''}`).sort(),
    windows,
  };
}

function expectSameWindows(got: Expected['windows'], want: Expected['windows']): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const tag of Object.keys(want)) expect({ tag, ...got[tag] }).toEqual({ tag, ...want[tag] });
  expect(Object.values(want).some((cpis) => Object.values(cpis).some((buckets) => Object.keys(buckets).length > 0))).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// Pieces of a run

function kafkaOn(brokers: string[]): Kafka {
  return new kafkajs.Kafka({ clientId: uniqueNames('fault').clientId, brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
}

async function createTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

async function produce(kafka: Kafka, topic: string, events: Stream['rest']): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: events.slice(i, i + 500).map((e) => ({ key: e.key, value: JSON.stringify(e.event) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every message of a topic, read committed, once `settleMs` pass without a new one. */
async function readAll(kafka: Kafka, topic: string, settleMs = 3000): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueNames('fault-reader').group, maxWaitTimeInMs: 100, readUncommitted: false });
  const values: string[] = [];
  let lastAt = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => { values.push(String(message.value)); lastAt = Date.now(); } });
    await waitFor(() => Date.now() - lastAt > settleMs && values.length > 0, { timeoutMs: 60_000, what: `messages on ${topic}` });
    return values;
  } finally {
    await consumer.disconnect();
  }
}

interface Setup {
  label: string;
  brokers: string[];
  redisUrl: string;
  smtp?: TestSmtpServer;
}

interface Running {
  processor: Processor;
  kafka: Kafka;
  topics: { events: string; offers: string; decisions: string };
  group: string;
  prefix: string;
  /** Readiness as watched every 100 ms: [ms since start, ready, the failing checks]. */
  readiness: [number, boolean, string][];
  stop(): Promise<void>;
}

async function start(s: Setup, ruleSet: RuleSet): Promise<Running> {
  const n = uniqueNames(s.label);
  const topics = { events: n.topicFor('events'), offers: n.topicFor('offers'), decisions: n.topicFor('decisions'), dlq: n.topicFor('dlq') };
  const kafka = kafkaOn(s.brokers);
  await createTopics(kafka, Object.values(topics));
  const settings = loadSettings({
    KAFKA_BROKERS: s.brokers.join(','), REDIS_URL: s.redisUrl, REDIS_PREFIX: n.keyPrefix.replace(/:$/, ''),
    KAFKA_GROUP_ID: n.group, EMAIL_GROUP_ID: `${n.group}-email`,
    EVENTS_TOPIC: topics.events, OFFERS_TOPIC: topics.offers, DECISIONS_TOPIC: topics.decisions, DLQ_TOPIC: topics.dlq,
    HTTP_PORT: '0', LOG_LEVEL: process.env.CPIWATCH_TEST_LOG_LEVEL ?? 'silent', KAFKA_SESSION_TIMEOUT: '6s', STARTUP_RETRY_MAX: '2s',
    IDLE_ADVANCE: 'none', // stream time is the events' alone (see reference())
    ...(s.smtp ? { SMTP_URL: s.smtp.url, EMAIL_MAX_ATTEMPTS: '10' } : {}),
  });
  const processor = new Processor({ settings, ruleSet, log: createLogger(settings.LOG_LEVEL), http: false });
  await processor.start();
  const readiness: Running['readiness'] = [];
  const t0 = Date.now();
  const timer = setInterval(() => {
    const r = processor.health.report();
    readiness.push([Date.now() - t0, r.ready, Object.entries(r.checks).filter(([, c]) => !c.ok).map(([k, c]) => `${k}: ${c.detail}`).join('; ')]);
  }, 100);
  return {
    processor, kafka, topics, group: n.group, prefix: settings.REDIS_PREFIX, readiness,
    async stop() {
      clearInterval(timer);
      await processor.stop();
    },
  };
}

async function drained(r: Running, timeoutMs = 90_000): Promise<void> {
  await waitDrained(r.kafka, r.group, r.topics.events, timeoutMs);
}

/** The profiles and the first half of the rest, sent and processed; returns the second half (for
 * the test to send while its fault lasts) and the readiness sample time when all this was done. */
async function firstHalfDrained(r: Running, stream: Stream): Promise<{ secondHalf: Stream['rest']; at: number }> {
  await produce(r.kafka, r.topics.events, stream.profiles);
  const half = Math.floor(stream.rest.length / 2);
  await produce(r.kafka, r.topics.events, stream.rest.slice(0, half));
  await drained(r);
  return { secondHalf: stream.rest.slice(half), at: r.readiness.at(-1)![0] };
}

/** The end state, checked against the reference: offers once each, decisions, windows, e-mails. */
async function checkEndState(r: Running, s: Setup, stream: Stream, ruleSet: RuleSet, want: Expected): Promise<void> {
  const offers = (await readAll(r.kafka, r.topics.offers)).map((v) => JSON.parse(v) as WireCloudEvent<OfferData>);
  const ids = offers.map((o) => o.id);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'offers published twice').toEqual([]);
  expect(ids.slice().sort()).toEqual(want.offers);
  const decisions = (await readAll(r.kafka, r.topics.decisions)).map((v) => {
    const d = (JSON.parse(v) as { data: { offerId: string; outcome: string; reason?: string } }).data;
    return `${d.offerId} ${d.outcome} ${d.reason ?? ''}`;
  });
  expect(decisions.sort()).toEqual(want.decisions);
  const { windows } = await readWindows(s.redisUrl, r.prefix, stream.scenario.stores.map((x) => x.storeId), ruleSet);
  expectSameWindows(windows, want.windows);
  if (s.smtp) {
    const emailed = offers.filter((o) => o.data.channels.email).map((o) => o.id).sort();
    await s.smtp.waitForMessages(emailed.length, 90_000);
    await sleep(1500);
    expect(s.smtp.messages.map((m) => m.headers['x-cpiwatch-offer-id']).sort()).toEqual(emailed);
  }
}

function notReadyDuring(r: Running, from: number, to: number, check: RegExp): [number, boolean, string][] {
  return r.readiness.filter(([t, ready, why]) => t >= from && t <= to && !ready && check.test(why));
}

// ---------------------------------------------------------------------------------------------
// A dedicated redis-server (AOF on: a restart keeps the state)

class RedisServer {
  proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'cpiwatch-redis-'));
  constructor(readonly port: number) {}
  get url(): string { return `redis://127.0.0.1:${this.port}`; }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--enable-debug-command', 'yes',
    ], { stdio: 'ignore' });
    const probe = new Redis(this.url, { retryStrategy: () => 100, maxRetriesPerRequest: null });
    probe.on('error', () => undefined);
    try {
      await waitFor(() => probe.ping().then((p) => p === 'PONG'), { timeoutMs: 10_000, what: `redis-server on ${this.port}` });
    } finally {
      probe.disconnect();
    }
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

describe('faults mid-stream: no crash, not ready while degraded, recovery, nothing lost or doubled', () => {
  let ruleSet: RuleSet;
  let stream: Stream;
  let want: Expected;

  beforeAll(async () => {
    ruleSet = await exampleRules();
    stream = curbsideStream(EVENTS, `fault${Date.now().toString(36)}`, 4242);
    want = await reference(stream, ruleSet);
    expect(want.offers.length).toBeGreaterThan(3);
  });

  it('Redis restarted mid-stream', async () => {
    const redis = new RedisServer(await freePort());
    const smtp = await startSmtpServer();
    await redis.start();
    const setup: Setup = { label: 'fault-redis-restart', brokers: services().kafkaBrokers, redisUrl: redis.url, smtp };
    const r = await start(setup, ruleSet);
    try {
      const { secondHalf, at: down } = await firstHalfDrained(r, stream);
      await redis.stop('SIGTERM');
      await produce(r.kafka, r.topics.events, secondHalf); // arrives while Redis is away
      await waitFor(() => notReadyDuring(r, down, Infinity, /redis/).length > 0, { timeoutMs: 15_000, what: 'not ready while Redis is down' });
      await sleep(3000);
      expect(r.processor.health.ready).toBe(false);
      await redis.start();
      const up = r.readiness.at(-1)![0];
      await waitFor(() => r.processor.health.ready, { timeoutMs: 30_000, what: 'ready again after Redis came back' });
      await drained(r);
      expect(r.readiness.filter(([t]) => t > up + 12_000).every(([, ready]) => ready)).toBe(true);
      await checkEndState(r, setup, stream, ruleSet, want);
    } finally {
      await r.stop();
      await smtp.stop();
      await redis.dispose();
    }
  }, 180_000);

  it('Redis stalled (DEBUG SLEEP) mid-stream', async () => {
    const redis = new RedisServer(await freePort());
    await redis.start();
    const setup: Setup = { label: 'fault-redis-slow', brokers: services().kafkaBrokers, redisUrl: redis.url };
    const r = await start(setup, ruleSet);
    const admin = new Redis(redis.url);
    try {
      const { secondHalf, at: stalled } = await firstHalfDrained(r, stream);
      // two 4-second stalls back to back, the second half of the stream arriving meanwhile
      const sleeps = admin.call('DEBUG', 'SLEEP', '4').then(() => admin.call('DEBUG', 'SLEEP', '4'));
      await sleep(200);
      await produce(r.kafka, r.topics.events, secondHalf);
      await sleeps;
      const over = r.readiness.at(-1)![0];
      expect(notReadyDuring(r, stalled, over, /redis: no answer to PING/).length, 'not ready while Redis stalls').toBeGreaterThan(0);
      await waitFor(() => r.processor.health.ready, { timeoutMs: 15_000, what: 'ready again after the stall' });
      await drained(r);
      await checkEndState(r, setup, stream, ruleSet, want);
    } finally {
      admin.disconnect();
      await r.stop();
      await redis.dispose();
    }
  }, 180_000);

  it('SMTP server down for a while: offers flow, e-mails wait and are sent once each when it is back', async () => {
    const first = await startSmtpServer();
    const port = first.port;
    const setup: Setup = { label: 'fault-smtp', brokers: services().kafkaBrokers, redisUrl: services().redisUrl, smtp: first };
    const r = await start(setup, ruleSet);
    let second: TestSmtpServer | undefined;
    try {
      await produce(r.kafka, r.topics.events, stream.profiles);
      await drained(r);
      await first.stop();
      const down = r.readiness.at(-1)![0];
      await produce(r.kafka, r.topics.events, stream.rest);
      await drained(r);
      // the offers are on Kafka while no e-mail can go out; failures are counted and retried
      await waitFor(async () => ((await r.processor.metrics.emails.get()).values.find((v) => v.labels.result === 'failed')?.value ?? 0) > 0, { timeoutMs: 30_000, what: 'failed e-mail attempts while SMTP is down' });
      await sleep(4000);
      // readiness is about processing events; the e-mail channel trails behind the offers topic and
      // catches up (its failures are on /metrics as cpiwatch_emails_total{result="failed"})
      expect(r.readiness.filter(([t]) => t > down + 1000).every(([, ready]) => ready)).toBe(true);
      second = await startSmtpServer({ port });
      setup.smtp = second;
      await checkEndState(r, setup, stream, ruleSet, want);
      expect(first.messages).toEqual([]);
    } finally {
      await r.stop();
      await second?.stop();
    }
  }, 240_000);

  describe('the Kafka broker restarted mid-stream (a dedicated broker)', () => {
    let stackDir: string;
    let env: NodeJS.ProcessEnv;
    let brokers: string[];

    beforeAll(async () => {
      stackDir = mkdtempSync(join(tmpdir(), 'cpiwatch-broker-'));
      // the jars the shared stack already downloaded (else stack.sh fetches them with Maven)
      const jars = join(process.env.CPIWATCH_STACK_DIR ?? join(ROOT, '.stack'), 'kafka-jars');
      if (existsSync(jars)) symlinkSync(jars, join(stackDir, 'kafka-jars'));
      // four free ports, taken again if another process grabbed one before the broker bound it
      for (let attempt = 1; ; attempt++) {
        const [port, controller, sasl, ssl] = [await freePort(), await freePort(), await freePort(), await freePort()];
        env = {
          ...process.env, CPIWATCH_STACK_DIR: stackDir, CPIWATCH_KAFKA_PORT: String(port), CPIWATCH_KAFKA_CONTROLLER_PORT: String(controller),
          CPIWATCH_KAFKA_SASL_PORT: String(sasl), CPIWATCH_KAFKA_SSL_PORT: String(ssl),
        };
        try {
          await run('bash', [join(ROOT, 'scripts/stack.sh'), 'up', 'kafka'], { env, timeout: 180_000 });
          brokers = [`127.0.0.1:${port}`];
          break;
        } catch (err) {
          await run('bash', [join(ROOT, 'scripts/stack.sh'), 'down', 'kafka'], { env, timeout: 90_000 }).catch(() => undefined);
          if (attempt >= 3 || !/already in use|is taken/.test(String((err as { stdout?: string; stderr?: string }).stderr ?? '') + String((err as Error).message))) throw err;
        }
      }
    }, 200_000);

    afterAll(async () => {
      if (env) await run('bash', [join(ROOT, 'scripts/stack.sh'), 'down', 'kafka'], { env, timeout: 90_000 }).catch(() => undefined);
      if (stackDir) rmSync(stackDir, { recursive: true, force: true });
    }, 100_000);

    it('is not ready while the broker is away, then finishes the stream exactly once', async () => {
      const smtp = await startSmtpServer();
      const setup: Setup = { label: 'fault-kafka', brokers, redisUrl: services().redisUrl, smtp };
      const r = await start(setup, ruleSet);
      try {
        await produce(r.kafka, r.topics.events, stream.profiles);
        await drained(r);
        const chunks: Stream['rest'][] = [];
        for (let i = 0; i < stream.rest.length; i += 400) chunks.push(stream.rest.slice(i, i + 400));
        const cut = Math.floor(chunks.length / 2);
        for (const c of chunks.slice(0, cut)) {
          await produce(r.kafka, r.topics.events, c);
          await sleep(150);
        }
        // mid-stream: the broker stops (its data stays), stays away ~10 s, comes back
        const down = r.readiness.at(-1)![0];
        await run('bash', [join(ROOT, 'scripts/stack.sh'), 'down', 'kafka'], { env, timeout: 90_000 });
        await sleep(8000);
        await run('bash', [join(ROOT, 'scripts/stack.sh'), 'up', 'kafka'], { env, timeout: 180_000 });
        const up = r.readiness.at(-1)![0];
        expect(notReadyDuring(r, down, up + 5000, /kafka/).length, 'not ready while the broker is away').toBeGreaterThan(0);
        for (const c of chunks.slice(cut)) await produce(r.kafka, r.topics.events, c);
        await waitFor(() => r.processor.health.ready, { timeoutMs: 60_000, what: 'ready again after the broker came back' });
        await drained(r, 120_000);
        await checkEndState(r, setup, stream, ruleSet, want);
      } finally {
        await r.stop();
        await smtp.stop();
      }
    }, 300_000);
  });
});
