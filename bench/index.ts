/**
 * `npm run bench`: cpiwatch on the real stack against a naive baseline, on the same input.
 *
 *  1. throughput: N curbside events (BENCH_EVENTS, default 1,000,000) produced to a topic of
 *     BENCH_PARTITIONS partitions, then `cpiwatch run` (the built binary, a child process) consumes
 *     them from a fresh group; events/s from the first to the last event applied (its /metrics),
 *     BENCH_RUNS times. Peak RSS of the process (VmHWM), Redis used_memory per thousand scopes.
 *  2. naive baseline (bench/naive-baseline.ts) on the same topic, from a fresh group, for at most
 *     BENCH_NAIVE_MAX_SECONDS, once with kafkajs' default of one partition at a time (how it would be
 *     written) and once with as many partitions at a time as cpiwatch; events/s and the ratios.
 *  3. latency: a fresh processor on another topic; curbside events produced at a fixed rate
 *     (BENCH_RATE events/s for BENCH_LATENCY_SECONDS), event-to-offer latency of the offers a
 *     customer's own en-route event triggers (produce call -> offer read committed): p50/p99/max;
 *     offers decided when the rule fired (at a bucket close) are counted apart.
 * BENCH_KEYINGS (default store,order): the throughput runs on the input keyed by store (the
 * scenario's keys: store, or customer for profiles) and on the same input keyed by order id (else
 * customer id), each on its own topic; the naive baseline and the first keying's runs are the ones
 * compared. BENCH_KEYING=order is BENCH_KEYINGS=order.
 * Redis is a dedicated redis-server on a free port (memory and CPU of the run alone); Kafka is the
 * local stack's broker (scripts/stack.sh, started if KAFKA_BROKERS is not set).
 * BENCH_CURVE=1 adds the scaling curves (bench/curve.ts: rules, scopes, window) and BENCH_TAKEOVER=1
 * the takeover time of a survivor after SIGKILL of one of two instances (bench/takeover.ts); with
 * BENCH_SKIP=throughput,naive,latency they run alone.
 * Results: bench/results/<date>-<events>[-curve][-takeover].json, with the machine's details; a table on stdout.
 * Logs of the processes and CPU profiles (BENCH_CPU_PROF=1): $TMPDIR/cpiwatch-bench/.
 */
// first: kafkajs must load with its read-committed filter fixed (read-committed.ts)
import '../src/adapters/kafka/read-committed.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { toWireEvent } from '../src/events/encode.js';
import { curbsideScenario, type ScenarioEvent } from '../src/samples/curbside-scenario.js';
import { curveTables, runCurves, type CurveKit, type CurvePoint } from './curve.js';
import { runTakeover, takeoverTable, type TakeoverResult } from './takeover.js';

const ROOT = join(import.meta.dirname, '..');
/** Logs of the processes under test and CPU profiles (BENCH_CPU_PROF=1). */
const WORK_DIR = join(os.tmpdir(), 'cpiwatch-bench');
const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 60);
const NAIVE_MAX_SECONDS = Number(process.env.BENCH_NAIVE_MAX_SECONDS ?? 120);
/** How the input is keyed: `store` (the scenario's keys: store, or customer for profiles) or `order` (order id, else customer id: every op takes the repartition hop). */
type Keying = 'store' | 'order';
const KEYINGS: Keying[] = [...new Set((process.env.BENCH_KEYINGS ?? process.env.BENCH_KEYING ?? 'store,order').split(',').map((k) => (k.trim() === 'order' ? 'order' : 'store') as Keying))];
/** The keying of the latency run and of the first throughput runs. */
const KEYING: Keying = KEYINGS[0]!;
const keyOf = (e: ScenarioEvent, keying: Keying = KEYING): string => {
  if (keying === 'store') return e.key;
  const d = e.event.data as { orderId?: string; customerId?: string };
  return d.orderId ?? d.customerId ?? e.key;
};
/**
 * Labels of the throughput runs, alternating run by run: one engine since the first (per-entity) one
 * was removed; its A/B against the stream-time engine (3 December) is in docs/performance.md.
 */
const ENGINES = ['stream-time'];
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean)); // throughput,naive,latency
/** The processor's settings: every partition of an instance processed at once (as the default of 16 does up to 16). BENCH_CPIWATCH_<SETTING> overrides. */
const CPIWATCH_ENV: Record<string, string> = {
  PARTITIONS_CONCURRENTLY: String(PARTITIONS),
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_CPIWATCH_')).map(([k, v]) => [k.slice('BENCH_CPIWATCH_'.length), v!])),
};
const id = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomBytes(3).toString('hex')}`;
const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Services

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function kafkaBrokers(): string[] {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS.split(',');
  log('KAFKA_BROKERS not set: starting the local stack (scripts/stack.sh up kafka)');
  execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'up', 'kafka'], { stdio: 'inherit' });
  const env = execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'env'], { encoding: 'utf8' });
  const m = /KAFKA_BROKERS=(\S+)/.exec(env);
  if (!m) throw new Error('scripts/stack.sh env printed no KAFKA_BROKERS');
  return m[1]!.split(',');
}

export interface RedisServer { url: string; client: Redis; proc?: ChildProcess; stop(): Promise<void> }

async function startRedis(): Promise<RedisServer> {
  if (process.env.BENCH_REDIS_URL) {
    const client = new Redis(process.env.BENCH_REDIS_URL);
    return { url: process.env.BENCH_REDIS_URL, client, stop: async () => { client.disconnect(); } };
  }
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { retryStrategy: () => 100 });
  client.on('error', () => undefined); // refused until the server listens
  await Promise.race([client.ping(), sleep(10_000).then(() => { throw new Error(`redis-server on port ${port} did not start`); })]);
  return {
    url, client, proc,
    stop: async () => {
      client.disconnect();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return 0;
  }
}

function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(join(ROOT, '.stack', 'run', 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function redisMemory(client: Redis): Promise<{ usedMemory: number; keys: number }> {
  const info = await client.info('memory');
  return { usedMemory: Number(/used_memory:(\d+)/.exec(info)![1]), keys: await client.dbsize() };
}

// ---------------------------------------------------------------------------------------------
// Kafka

function kafkaClient(brokers: string[]): Kafka {
  return new Kafka({ clientId: `bench-${id}`, brokers, logLevel: logLevel.ERROR, retry: { retries: 10 } });
}

async function createTopics(kafka: Kafka, topics: { topic: string; numPartitions: number }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ ...t, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // only those that exist: kafkajs retries an unknown topic for minutes
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  } catch (err) {
    log(`could not delete topics: ${(err as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

const CE = { 'content-type': 'application/cloudevents+json; charset=UTF-8' };

async function produceAll(producer: Producer, topic: string, events: readonly ScenarioEvent[], keying: Keying): Promise<void> {
  const chunk = 2000;
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < events.length; i += chunk) {
    inFlight.push(producer.send({ topic, acks: -1, messages: events.slice(i, i + chunk).map((e) => ({ key: keyOf(e, keying), value: JSON.stringify(e.event), headers: CE })) }));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

// ---------------------------------------------------------------------------------------------
// The processor under test

export interface Child {
  proc: ChildProcess;
  port: number;
  metric(name: string): Promise<number | undefined>;
  /** The whole /metrics text (saved beside the logs after each throughput run). */
  metricsText(): Promise<string | undefined>;
  ready(): Promise<boolean>;
  /** Peak resident set (VmHWM) in bytes. */
  peakRss(): number;
  stop(): Promise<void>;
}

async function startCpiwatch(env: Record<string, string>, label: string, rulesDir = join(ROOT, 'rules')): Promise<Child> {
  const port = await freePort();
  mkdirSync(WORK_DIR, { recursive: true });
  const logFile = join(WORK_DIR, `${id}-${label}.log`);
  // BENCH_NODE_ARGS: V8 flags for the processor under test (e.g. --max-semi-space-size=32)
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${WORK_DIR}`] : [])];
  const proc = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'cpiwatch.js'), 'run', '--rules', rulesDir], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: 'warn', ...env, ...CPIWATCH_ENV, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  proc.stdout!.on('data', (d: Buffer) => out.push(d));
  proc.stderr!.on('data', (d: Buffer) => out.push(d));
  proc.once('exit', () => writeFileSync(logFile, Buffer.concat(out)));
  let hwm = 0;
  const readHwm = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
    } catch { /* exited */ }
    return hwm;
  };
  const get = async (path: string) => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
      return { status: r.status, text: await r.text() };
    } catch {
      return undefined;
    }
  };
  return {
    proc, port,
    async metric(name) {
      const r = await get('/metrics');
      if (!r) return undefined;
      let sum = 0;
      for (const line of r.text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    },
    async metricsText() {
      return (await get('/metrics'))?.text;
    },
    async ready() {
      return (await get('/readyz'))?.status === 200;
    },
    peakRss: readHwm,
    async stop() {
      readHwm();
      proc.kill('SIGTERM');
      const exited = await Promise.race([new Promise((r) => proc.once('exit', r)).then(() => true), sleep(40_000).then(() => false)]);
      if (!exited) proc.kill('SIGKILL');
    },
  };
}

function cpiwatchEnv(brokers: string[], redisUrl: string, names: { topic: string; group: string; prefix: string; offers: string }): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers.join(','), REDIS_URL: redisUrl, REDIS_PREFIX: names.prefix, KAFKA_GROUP_ID: names.group,
    EVENTS_TOPIC: names.topic, OFFERS_TOPIC: names.offers, DECISIONS_TOPIC: `${names.offers}.decisions`, DLQ_TOPIC: `${names.topic}.dlq`,
    // the events are 30-60 minutes old: nothing is in the future
    MAX_FUTURE_SKEW: '5m',
  };
}

/** A midday time zone for the scenario's time, so quiet hours stay out of the measurement. */
function middayZone(start: number): string {
  const offset = 12 - new Date(start).getUTCHours();
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

function scenario(events: number, start: number, idPrefix: string) {
  const stores = Math.max(2, Math.round(events / 1000));
  return curbsideScenario({ start, seed: 7, idPrefix, stores, busyStores: Math.ceil(stores / 2), arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: middayZone(start) });
}

// ---------------------------------------------------------------------------------------------
// Measurements

export interface ThroughputRun {
  /** ENGINE of the run (BENCH_ENGINES runs several, alternating, for an A/B on the same machine). */
  engine: string;
  events: number; seconds: number; eventsPerSecond: number; peakRssBytes: number;
  /** cpiwatch_offers_total once the offers settled (no new one for 3 s after the input was consumed). */
  offers: number;
  /** Offers on the offers topic read committed at that moment, and how many distinct ids among them. */
  offersOnTopic: number; distinctOffersOnTopic: number;
  /** cpiwatch_batch_errors_total at the end: failed attempts at a batch (retried or split); 0 expected. */
  batchErrors: number;
  redisUsedMemoryBytes: number; redisKeys: number; scopes: number; redisBytesPerThousandScopes: number;
  /** CPU seconds used during the run by cpiwatch, redis-server and the Kafka broker (2 cores: 2 s per second at most). */
  cpuSeconds: { cpiwatch: number; redis: number; kafka: number; machine: number };
  loadAverage: number[];
}

/** CPU seconds of the whole machine so far (all cores, busy time). */
function machineCpuSeconds(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const f = cpu!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100; // user nice system irq softirq steal
}

async function throughput(brokers: string[], redis: RedisServer, topic: string, total: number, scopes: number, run: number, engine: string, rulesDir?: string): Promise<ThroughputRun> {
  await redis.client.flushall();
  const before = await redisMemory(redis.client);
  const names = { topic, group: `bench-${id}-cpiwatch-${run}`, prefix: `bench${run}`, offers: `bench.${id}.offers.${run}` };
  const child = await startCpiwatch(cpiwatchEnv(brokers, redis.url, names), `throughput-${run}-${engine}`, rulesDir);
  const spawned = performance.now();
  const cpu0 = { redis: cpuSeconds(redis.proc?.pid), kafka: cpuSeconds(brokerPid()), machine: machineCpuSeconds() };
  let cpiwatchCpu = 0;
  let cpuAtFirst = { cpiwatch: 0, ...cpu0 };
  let first = 0;
  let last = 0;
  let seen = 0;
  const deadline = Date.now() + 30 * 60_000;
  let offers = 0;
  let batchErrors = 0;
  try {
    while (seen < total) {
      if (child.proc.exitCode !== null) throw new Error(`cpiwatch exited with ${child.proc.exitCode}; see ${WORK_DIR}`);
      if (Date.now() > deadline) throw new Error(`cpiwatch consumed ${seen} of ${total} in 30 minutes`);
      // every event counted once by outcome when its processing is done (with the stream-time engine:
      // at the owner partitions, after the repartition hop)
      const n = (await child.metric('cpiwatch_events_total')) ?? 0;
      const now = performance.now();
      if (n > 0 && first === 0) {
        first = now;
        cpuAtFirst = { cpiwatch: cpuSeconds(child.proc.pid), redis: cpuSeconds(redis.proc?.pid), kafka: cpuSeconds(brokerPid()), machine: machineCpuSeconds() };
      }
      if (n > seen) { seen = n; last = now; }
      cpiwatchCpu = cpuSeconds(child.proc.pid) || cpiwatchCpu;
      child.peakRss();
      await sleep(200); // each /metrics scrape costs the processor ~1 ms
    }
    cpiwatchCpu = cpuSeconds(child.proc.pid) || cpiwatchCpu;
    // the last offers follow the idle marks: settle, then compare the counter with the topic
    for (let stable = 0, t0 = Date.now(); stable < 3 && Date.now() - t0 < 60_000; await sleep(1000)) {
      const n = (await child.metric('cpiwatch_offers_total')) ?? 0;
      stable = n === offers ? stable + 1 : 0;
      offers = n;
    }
  } finally {
    offers = (await child.metric('cpiwatch_offers_total')) ?? offers;
    batchErrors = (await child.metric('cpiwatch_batch_errors_total')) ?? batchErrors;
    const metricsText = await child.metricsText();
    if (metricsText) writeFileSync(join(WORK_DIR, `${id}-throughput-${run}-${engine}.metrics.txt`), metricsText);
    cpiwatchCpu = cpuSeconds(child.proc.pid) || cpiwatchCpu;
    await child.stop();
  }
  const onTopic = await readOfferIds(brokers, names.offers);
  const cpu = {
    cpiwatch: cpiwatchCpu - cpuAtFirst.cpiwatch,
    redis: cpuSeconds(redis.proc?.pid) - cpuAtFirst.redis,
    kafka: cpuSeconds(brokerPid()) - cpuAtFirst.kafka,
    machine: machineCpuSeconds() - cpuAtFirst.machine,
  };
  const after = await redisMemory(redis.client);
  // the first poll that sees events sees one batch already done: count from the first batch's start
  // all counted in one poll (one long batch per partition, e.g. a 24 h window): from the start of the process
  const seconds = (last - (last > first ? first : spawned)) / 1000;
  const used = after.usedMemory - before.usedMemory;
  return {
    engine, events: total, seconds, eventsPerSecond: total / seconds, peakRssBytes: child.peakRss(), offers,
    offersOnTopic: onTopic.length, distinctOffersOnTopic: new Set(onTopic).size, batchErrors,
    redisUsedMemoryBytes: used, redisKeys: after.keys, scopes, redisBytesPerThousandScopes: Math.round(used / (scopes / 1000)),
    cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round(v * 10) / 10])) as ThroughputRun['cpuSeconds'],
    loadAverage: os.loadavg(),
  };
}

/** The ids of the offers on a topic, read committed from the beginning to its end. */
async function readOfferIds(brokers: string[], topic: string): Promise<string[]> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  // a run without offers (the curves' input has no customer en route) has no offers topic
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.disconnect();
    return [];
  }
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const ids: string[] = [];
  const done = new Set<number>();
  const consumer = kafka.consumer({ groupId: `bench-${id}-offers-reader-${randomBytes(3).toString('hex')}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const lastOffsets = new Map(ends.map((e) => [e.partition, Number(e.high) - 1]));
  const idle = new Promise<void>((resolve) => {
    let timer = setTimeout(resolve, 5000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) ids.push((JSON.parse(String(m.value)) as { id: string }).id);
        // the last offset of a transactional partition is a commit marker: the batch's last offset reaching it is the end
        if (Number(batch.lastOffset()) >= lastOffsets.get(batch.partition)! - 1) done.add(batch.partition);
        clearTimeout(timer);
        timer = setTimeout(resolve, done.size === ends.length ? 500 : 5000);
      },
    });
  });
  await idle;
  await consumer.disconnect();
  return ids;
}

interface NaiveRun { concurrency: number; events: number; seconds: number; eventsPerSecond: number; peakRssBytes: number; offers: number; capped: boolean }

async function naive(brokers: string[], redis: RedisServer, topic: string, total: number, concurrency: number): Promise<NaiveRun> {
  await redis.client.flushall();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'naive-baseline.ts')], {
    cwd: ROOT,
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', KAFKA_BROKERS: brokers.join(','), REDIS_URL: redis.url, EVENTS_TOPIC: topic, OFFERS_TOPIC: `bench.${id}.naive-offers-${concurrency}`, GROUP_ID: `bench-${id}-naive-${concurrency}`, PREFIX: 'naive', CONCURRENCY: String(concurrency) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stats = { consumed: 0, offers: 0, firstAt: 0, lastAt: 0, rss: 0 };
  let peak = 0;
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      try {
        stats = JSON.parse(l) as typeof stats;
        peak = Math.max(peak, stats.rss);
      } catch { /* not a stats line */ }
    }
  });
  const started = Date.now();
  let capped = false;
  while (stats.consumed < total) {
    if (proc.exitCode !== null) throw new Error(`the naive baseline exited with ${proc.exitCode}`);
    if (stats.firstAt > 0 && Date.now() - stats.firstAt > NAIVE_MAX_SECONDS * 1000) { capped = true; break; }
    if (Date.now() - started > (NAIVE_MAX_SECONDS + 120) * 1000) throw new Error('the naive baseline did not start');
    await sleep(200);
  }
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  const seconds = (stats.lastAt - stats.firstAt) / 1000;
  return { concurrency, events: stats.consumed, seconds, eventsPerSecond: stats.consumed / seconds, peakRssBytes: peak, offers: stats.offers, capped };
}

interface LatencyRun { offeredRate: number; achievedRate: number; seconds: number; events: number; offers: number; samples: number; decidedAtFire: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number }

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function latency(brokers: string[], redis: RedisServer, kafka: Kafka): Promise<LatencyRun> {
  await redis.client.flushall();
  const total = RATE * LATENCY_SECONDS;
  const topic = `bench.${id}.latency`;
  const offers = `bench.${id}.latency-offers`;
  await createTopics(kafka, [{ topic, numPartitions: PARTITIONS }, { topic: offers, numPartitions: 1 }, { topic: `${offers}.decisions`, numPartitions: 1 }, { topic: `${topic}.dlq`, numPartitions: 1 }]);
  const start = Date.now() - 45 * 60_000;
  const sc = scenario(total, start, `lat${id.slice(-6)}`);
  // gold customers setting out for the busy stores late in their breach: each one's own en-route
  // event triggers its offer (the scenario's en-route customers mostly set out before the rule fires)
  const late: ScenarioEvent[] = [];
  for (const s of sc.stores.filter((x) => x.busy)) {
    for (let i = 0; i < 6; i++) {
      const customerId = `${s.storeId}-late-${i}`;
      const t = start + 19 * 60_000 + i * 20_000;
      late.push({ key: customerId, event: toWireEvent({ specversion: '1.0', id: `${customerId}-p`, source: 'urn:bench', type: 'customer.profile', time: start + i, data: { customerId, valueTier: 'gold', lifetimeValue: 1800 } }) });
      late.push({ key: s.storeId, event: toWireEvent({ specversion: '1.0', id: `${customerId}-e`, source: 'urn:bench', type: 'customer.en-route', time: t, data: { customerId, storeId: s.storeId, etaSeconds: 900 } }) });
      sc.enRoute.push({ customerId, storeId: s.storeId, valueTier: 'gold', time: t });
    }
  }
  sc.events.push(...late);
  sc.events.sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time));
  const enRoute = new Set(sc.enRoute.map((c) => c.customerId));
  const child = await startCpiwatch(cpiwatchEnv(brokers, redis.url, { topic, group: `bench-${id}-latency`, prefix: 'lat', offers }), 'latency');
  const arrivals = new Map<string, { at: number; episode: string }>();
  const reader = kafka.consumer({ groupId: `bench-${id}-latency-reader`, maxWaitTimeInMs: 5, readUncommitted: false });
  // sends in parallel: a producer waiting for each acknowledgement before the next send would queue
  // events behind each other and count that queue as the processor's latency
  const producer = kafka.producer();
  try {
    for (let i = 0; !(await child.ready()); i++) {
      if (i > 600) throw new Error('cpiwatch did not become ready');
      await sleep(100);
    }
    await reader.connect();
    await reader.subscribe({ topic: offers, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const at = Date.now();
        const o = JSON.parse(String(message.value)) as { data: { customerId: string; trigger: { episodeStartedAt: string; scope: { value: string } } } };
        arrivals.set(o.data.customerId, { at, episode: `${o.data.trigger.scope.value}@${o.data.trigger.episodeStartedAt}` });
      },
    });
    await producer.connect();
    await sleep(2000);
    // paced: every 10 ms the events due by then; the time of the produce call is the event's time 0
    const sentAt = new Map<string, number>();
    const t0 = performance.now();
    const wall0 = Date.now();
    const sliceMs = 10;
    let next = 0;
    const pending: Promise<unknown>[] = [];
    while (next < sc.events.length) {
      const due = Math.min(sc.events.length, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
      if (due > next) {
        const slice = sc.events.slice(next, due);
        const now = Date.now();
        for (const e of slice) if (e.event.type === 'customer.en-route') sentAt.set((e.event.data as { customerId: string }).customerId, now);
        pending.push(producer.send({ topic, acks: -1, messages: slice.map((e) => ({ key: keyOf(e), value: JSON.stringify(e.event), headers: CE })) }));
        next = due;
        if (pending.length > 50) await pending.shift();
      }
      await sleep(sliceMs);
    }
    await Promise.all(pending);
    const seconds = (Date.now() - wall0) / 1000;
    // the last offers
    let quiet = 0;
    let count = arrivals.size;
    while (quiet < 10) {
      await sleep(1000);
      quiet = arrivals.size === count ? quiet + 1 : 0;
      count = arrivals.size;
    }
    // Offers a customer's own en-route event triggered: the event was produced after the first
    // offer of the same breach episode (store and fire time) had been read, so the rule was firing
    // when the processor met it. The others were decided when the rule fired, at a bucket close,
    // which happens when the store's next curbside-wait event arrives: their wait is the gap
    // between that store's events (seconds of event time, compressed here), not processing.
    const firstOfEpisode = new Map<string, number>();
    for (const a of arrivals.values()) firstOfEpisode.set(a.episode, Math.min(a.at, firstOfEpisode.get(a.episode) ?? Infinity));
    const samples: number[] = [];
    let atFire = 0;
    for (const [customer, a] of arrivals) {
      const sent = sentAt.get(customer);
      if (sent === undefined || !enRoute.has(customer)) continue;
      if (sent > firstOfEpisode.get(a.episode)!) samples.push(a.at - sent);
      else atFire++;
    }
    samples.sort((a, b) => a - b);
    const batches = (await child.metric('cpiwatch_batch_duration_seconds_count')) ?? 0;
    const batchSeconds = (await child.metric('cpiwatch_batch_duration_seconds_sum')) ?? 0;
    const batchEvents = (await child.metric('cpiwatch_batch_events_sum')) ?? 0;
    const windowSeconds = (await child.metric('cpiwatch_window_update_seconds_sum')) ?? 0;
    const transactions = (await child.metric('cpiwatch_kafka_transaction_seconds_count')) ?? 0;
    const transactionSeconds = (await child.metric('cpiwatch_kafka_transaction_seconds_sum')) ?? 0;
    const transactionBatches = (await child.metric('cpiwatch_kafka_transaction_batches_sum')) ?? 0;
    log(`processor: ${batches} batches, ${(batchEvents / batches).toFixed(0)} events and ${((batchSeconds / batches) * 1000).toFixed(1)} ms each on average`
      + ` (window update ${((windowSeconds / batches) * 1000).toFixed(1)} ms); ${transactions} transactions of ${(transactionBatches / transactions).toFixed(1)} batches,`
      + ` ${((transactionSeconds / transactions) * 1000).toFixed(1)} ms each on average`);
    return {
      offeredRate: RATE, achievedRate: sc.events.length / seconds, seconds, events: sc.events.length, offers: arrivals.size, samples: samples.length, decidedAtFire: atFire,
      p50Ms: quantile(samples, 0.5), p90Ms: quantile(samples, 0.9), p99Ms: quantile(samples, 0.99), maxMs: samples.at(-1)!,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await reader.disconnect().catch(() => undefined);
    await child.stop();
    await deleteTopics(kafka, [topic, offers, `${offers}.decisions`, `${topic}.dlq`]);
  }
}

// ---------------------------------------------------------------------------------------------

function machine(redisVersion: string) {
  const pom = readFileSync(join(ROOT, 'scripts/kafka/pom.xml'), 'utf8');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryBytes: os.totalmem(),
    loadAverageAtStart: os.loadavg(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    kafka: /<kafka\.version>([^<]+)</.exec(pom)?.[1],
    kafkajs: JSON.parse(readFileSync(join(ROOT, 'node_modules/kafkajs/package.json'), 'utf8')).version as string,
    redis: redisVersion,
    commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return undefined; } })(),
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

async function main(): Promise<void> {
  const brokers = kafkaBrokers();
  const kafka = kafkaClient(brokers);
  const redis = await startRedis();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.client.info('server'))?.[1] ?? '?';
  const result: Record<string, unknown> = { id, date: new Date().toISOString(), machine: machine(redisVersion), config: { events: N, partitions: PARTITIONS, runs: RUNS, rate: RATE, latencySeconds: LATENCY_SECONDS, naiveMaxSeconds: NAIVE_MAX_SECONDS, cpiwatchEnv: CPIWATCH_ENV } };
  const topicOf = (keying: Keying) => `bench.${id}.events${keying === 'store' ? '' : `-by-${keying}`}`;
  const topic = topicOf(KEYING);
  const topics = KEYINGS.map(topicOf);
  try {
    if (!SKIP.has('throughput') || !SKIP.has('naive')) {
      log(`generating ${N} curbside events`);
      const sc = scenario(N, Date.now() - 60 * 60_000, `b${id.slice(-6)}`);
      const total = sc.events.length;
      const customers = new Set(sc.events.filter((e) => e.event.type === 'customer.profile').map((e) => e.key)).size;
      const scopes = sc.stores.length + customers;
      result.input = { events: total, stores: sc.stores.length, customers, scopes };
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (const keying of SKIP.has('throughput') ? [KEYING] : KEYINGS) {
        await createTopics(kafka, [{ topic: topicOf(keying), numPartitions: PARTITIONS }]);
        const p0 = performance.now();
        await produceAll(producer, topicOf(keying), sc.events, keying);
        log(`produced ${total} events keyed by ${keying} to ${topicOf(keying)} (${PARTITIONS} partitions) in ${((performance.now() - p0) / 1000).toFixed(1)} s`);
      }
      await producer.disconnect();

      if (!SKIP.has('throughput')) {
        const byKeying: Record<string, unknown> = {};
        // keyings alternate run by run (the machine's speed drifts): run 1 of each, then run 2 of each
        const runs = new Map<Keying, ThroughputRun[]>(KEYINGS.map((k) => [k, []]));
        for (let r = 1, k = 0; r <= RUNS; r++) for (const keying of KEYINGS) for (const engine of ENGINES) {
          const t = await throughput(brokers, redis, topicOf(keying), total, scopes, ++k, engine);
          runs.get(keying)!.push(t);
          log(`cpiwatch run ${r} (ENGINE=${engine}, keyed by ${keying}): ${total} events in ${t.seconds.toFixed(1)} s = ${Math.round(t.eventsPerSecond)} events/s, peak RSS ${mb(t.peakRssBytes)}, Redis ${mb(t.redisUsedMemoryBytes)} (${t.redisBytesPerThousandScopes} bytes per 1,000 scopes), ${t.offers} offers (${t.offersOnTopic} on the topic, ${t.distinctOffersOnTopic} distinct), ${t.batchErrors} failed batch attempts; CPU s: cpiwatch ${t.cpuSeconds.cpiwatch}, redis ${t.cpuSeconds.redis}, kafka ${t.cpuSeconds.kafka}, machine ${t.cpuSeconds.machine} of ${(2 * t.seconds).toFixed(0)}`);
        }
        for (const [keying, list] of runs) {
          const main = list.filter((r) => r.engine === ENGINES[0]);
          byKeying[keying] = {
            runs: list, keying, medianEventsPerSecond: median(main.map((r) => r.eventsPerSecond)), minEventsPerSecond: Math.min(...main.map((r) => r.eventsPerSecond)), maxEventsPerSecond: Math.max(...main.map((r) => r.eventsPerSecond)),
            byEngine: Object.fromEntries(ENGINES.map((e) => [e, median(list.filter((r) => r.engine === e).map((r) => r.eventsPerSecond))])),
          };
        }
        result.throughput = byKeying[KEYING];
        result.throughputByKeying = byKeying;
      }
      if (!SKIP.has('naive')) {
        const runs: NaiveRun[] = [];
        for (const concurrency of [1, Number(CPIWATCH_ENV.PARTITIONS_CONCURRENTLY)]) {
          const nv = await naive(brokers, redis, topic, total, concurrency);
          runs.push(nv);
          log(`naive baseline, ${concurrency} partition(s) at a time: ${nv.events} events in ${nv.seconds.toFixed(1)} s = ${Math.round(nv.eventsPerSecond)} events/s${nv.capped ? ` (stopped after ${NAIVE_MAX_SECONDS} s)` : ''}, peak RSS ${mb(nv.peakRssBytes)}, ${nv.offers} offers`);
        }
        result.naive = runs;
        const t = result.throughput as { medianEventsPerSecond: number } | undefined;
        if (t) result.ratios = runs.map((nv) => ({ naiveConcurrency: nv.concurrency, ratio: t.medianEventsPerSecond / nv.eventsPerSecond }));
      }
    }
    if (!SKIP.has('latency')) {
      log(`latency: ${RATE} events/s for ${LATENCY_SECONDS} s`);
      const l = await latency(brokers, redis, kafka);
      result.latency = l;
      log(`latency at ${Math.round(l.achievedRate)} events/s: p50 ${l.p50Ms} ms, p90 ${l.p90Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${l.samples} offers triggered by their own event, of ${l.offers}; ${l.decidedAtFire} decided when the rule fired)`);
    }
    // scaling curves and takeover (bench/curve.ts, bench/takeover.ts), on request
    const kit: CurveKit = {
      id, kafka, partitions: PARTITIONS, log, createTopics, deleteTopics,
      produce: (producer, t, events) => produceAll(producer, t, events, 'store'),
      throughput: (t, total, scopes, run, label, rulesDir) => throughput(brokers, redis, t, total, scopes, run, label, rulesDir),
    };
    result.curveSettings = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_CURVE') || k.startsWith('BENCH_TAKEOVER')));
    if (process.env.BENCH_CURVE === '1') result.curves = await runCurves(kit);
    if (process.env.BENCH_TAKEOVER === '1') {
      await redis.client.flushall();
      result.takeover = await runTakeover(kit, { brokers, redisUrl: redis.url, redis: redis.client, start: startCpiwatch, env: cpiwatchEnv });
    }
  } finally {
    await deleteTopics(kafka, topics);
    await redis.stop();
  }
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const extra = [result.curves ? 'curve' : '', result.takeover ? 'takeover' : ''].filter(Boolean);
  const file = join(dir, `${id}-${result.input ? N : ''}${result.input && extra.length ? '-' : ''}${extra.join('-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const t = result.throughput as { medianEventsPerSecond: number; minEventsPerSecond: number; maxEventsPerSecond: number; runs: ThroughputRun[] } | undefined;
  const naiveRuns = (result.naive as NaiveRun[] | undefined) ?? [];
  const l = result.latency as LatencyRun | undefined;
  console.log('\n| measure | result | target |\n| --- | --- | --- |');
  const byKeying = (result.throughputByKeying ?? {}) as Record<string, { medianEventsPerSecond: number; minEventsPerSecond: number; maxEventsPerSecond: number; runs: ThroughputRun[] }>;
  for (const [keying, k] of Object.entries(byKeying)) {
    console.log(`| sustained throughput keyed by ${keying} (${N.toLocaleString('en')} events, ${PARTITIONS} partitions, median of ${k.runs.length}) | ${Math.round(k.medianEventsPerSecond).toLocaleString('en')} events/s (${Math.round(k.minEventsPerSecond).toLocaleString('en')}-${Math.round(k.maxEventsPerSecond).toLocaleString('en')}) | >= 30,000 |`);
  }
  if (t) {
    console.log(`| peak RSS of cpiwatch run | ${mb(Math.max(...t.runs.map((r) => r.peakRssBytes)))} | |`);
    console.log(`| offers: cpiwatch_offers_total / on the offers topic (read committed, distinct) | ${t.runs.map((r) => `${r.offers} / ${r.offersOnTopic} (${r.distinctOffersOnTopic})`).join(', ')} | equal, none twice |`);
    console.log(`| failed batch attempts (cpiwatch_batch_errors_total) | ${t.runs.map((r) => r.batchErrors).join(', ')} | 0 |`);
    console.log(`| Redis used_memory per 1,000 scopes | ${(median(t.runs.map((r) => r.redisBytesPerThousandScopes)) / 1024).toFixed(0)} KB | |`);
  }
  for (const nv of naiveRuns) {
    const label = nv.concurrency === 1 ? 'kafkajs default: 1 partition at a time' : `${nv.concurrency} partitions at a time, as cpiwatch`;
    console.log(`| naive baseline (${label}) | ${Math.round(nv.eventsPerSecond).toLocaleString('en')} events/s${nv.capped ? ` (first ${nv.events.toLocaleString('en')} events)` : ''} | |`);
    if (t) console.log(`| cpiwatch / naive (${label}) | ${(t.medianEventsPerSecond / nv.eventsPerSecond).toFixed(1)}x | >= 10x |`);
  }
  if (l) console.log(`| event-to-offer latency at ${RATE.toLocaleString('en')} events/s | p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${l.samples} offers) | p99 <= 50 ms |`);
  if (result.curves) console.log(curveTables(result.curves as CurvePoint[]));
  if (result.takeover) console.log(takeoverTable(result.takeover as TakeoverResult));
  console.log(`\nresults: ${file}`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
