// Shared pieces of the resilience tests: `cpiwatch run` as a child process (the real binary, killed
// for real), a seeded curbside stream split by phase, consumer-group progress, and the end state of
// a run (windows, rule states, offers, e-mails) in a form two runs can be compared on.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import type { OfferData, WireCloudEvent } from '../../../src/actions/offer-event.js';
import { buildRouting } from '../../../src/cpis/routing.js';
import { tagOf } from '../../../src/cpis/tags.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { curbsideScenario, prng, type Scenario, type ScenarioEvent } from '../../../src/samples/curbside-scenario.js';
import type { EntityState } from '../../../src/entities/entity-state.js';
import { PartitionTask } from '../../../src/pipeline/partition-task.js';
import { taskRulesOf } from '../../../src/pipeline/task-rules.js';
import { encodeBucket } from '../../../src/windows/cpi-window.js';
import { kafkaClient, uniqueNames, waitFor, waitForMessages, type ReadMessage } from '../../support/index.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const LOG_DIR = join(ROOT, '.stack', 'logs', 'resilience');

export { prng };

/** Fails clearly when dist/ is missing, warns when it is older than src/ (`npm test` builds first; plain vitest does not). */
export function assertBuilt(): void {
  const entry = join(ROOT, 'dist', 'cli', 'index.js');
  if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const built = statSync(entry).mtimeMs;
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }, 0);
  const src = newest(join(ROOT, 'src'));
  if (src > built + 1000) console.warn('[resilience] dist/ is older than src/: the child processes run the last build (`npm run build`; npm test does)');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export interface RunNames {
  label: string;
  prefix: string;
  group: string;
  emailGroup: string;
  topics: { events: string; offers: string; decisions: string; dlq: string };
}

export function runNames(label: string): RunNames {
  const n = uniqueNames(label);
  return {
    label,
    prefix: n.keyPrefix.replace(/:$/, ''),
    group: n.group,
    emailGroup: `${n.group}-email`,
    topics: { events: n.topicFor('events'), offers: n.topicFor('offers'), decisions: n.topicFor('decisions'), dlq: n.topicFor('dlq') },
  };
}

/** Environment of a `cpiwatch run` child for these names. */
export function childEnv(names: RunNames, services: { kafkaBrokers: string[]; redisUrl: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: names.prefix,
    KAFKA_GROUP_ID: names.group,
    EMAIL_GROUP_ID: names.emailGroup,
    EVENTS_TOPIC: names.topics.events,
    OFFERS_TOPIC: names.topics.offers,
    DECISIONS_TOPIC: names.topics.decisions,
    DLQ_TOPIC: names.topics.dlq,
    // a SIGKILLed member keeps its partitions until its session expires: the broker's minimum
    KAFKA_SESSION_TIMEOUT: '6s',
    // idle marks that do not move stream time: it is the events' alone, so two runs of the same
    // input end in the same windows and rule states however long each took
    IDLE_ADVANCE: 'none',
    // each mark round lets the owner partitions decide one more step of their merged candidates
    IDLE_MARK_INTERVAL: '200ms',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface Child {
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** GET /readyz; undefined while the endpoint does not answer. */
  readyz(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } | undefined>;
  /** A counter or gauge of /metrics (sum over label sets); undefined while it does not answer. */
  metric(name: string): Promise<number | undefined>;
  kill(signal: NodeJS.Signals): void;
}

let lives = 0;

/** Starts `node bin/cpiwatch.js run --rules <rules>` with `env`; stdout and stderr go to a log file. */
export async function spawnCpiwatch(env: Record<string, string>, options: { rules?: string; log: string }): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const port = await freePort();
  const logFile = join(LOG_DIR, `${options.log}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  out.write(`\n=== life ${++lives} at ${new Date().toISOString()}, http port ${port}\n`);
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cpiwatch.js'), 'run', '--rules', options.rules ?? join(ROOT, 'rules')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      out.write(`=== exit code ${code} signal ${signal}\n`);
      resolve({ code, signal });
    });
  });
  const get = async (path: string): Promise<{ status: number; text: string } | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
      return { status: res.status, text: await res.text() };
    } catch {
      return undefined;
    }
  };
  return {
    pid: child.pid!,
    port,
    child,
    exited,
    async readyz() {
      const r = await get('/readyz');
      return r ? JSON.parse(r.text) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } : undefined;
    },
    async metric(name: string) {
      const r = await get('/metrics');
      if (!r) return undefined;
      let sum = 0;
      for (const line of r.text.split('\n')) {
        if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Input

export interface Stream {
  scenario: Scenario;
  /** store and customer profiles: produced first and applied before anything else */
  profiles: ScenarioEvent[];
  /** everything else, in event-time order */
  rest: ScenarioEvent[];
  start: number;
}

/** A curbside stream of about `events` events (stores of ~1,000 events each), half the stores busy, from `start` (event time). */
export function curbsideStream(events: number, idPrefix: string, seed = 1234, start = Date.now() - 40 * 60_000): Stream {
  const stores = Math.max(2, Math.round(events / 1000));
  // a fixed zone where it is midday during the scenario, so quiet hours stay out of it
  const offset = 12 - new Date(start).getUTCHours();
  const zone = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  const scenario = curbsideScenario({
    start, seed, idPrefix, stores, busyStores: Math.ceil(stores / 2), arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: zone,
  });
  const isProfile = (e: ScenarioEvent) => e.event.type.endsWith('.profile');
  return { scenario, profiles: scenario.events.filter(isProfile), rest: scenario.events.filter((e) => !isProfile(e)), start };
}

/** Produces events in order, in chunks, with one idempotent producer. */
export async function produceEvents(kafka: Kafka, topic: string, events: readonly ScenarioEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        messages: events.slice(i, i + 1000).map((e) => ({ key: e.key, value: JSON.stringify(e.event), headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' } })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Per partition of `topic`: its end offset minus the group's committed offset (the low offset if none). */
export async function partitionLags(kafka: Kafka, group: string, topic: string): Promise<{ partition: number; committed: number; lag: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return ends.map((end) => {
      const c = committed?.partitions.find((p) => p.partition === end.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
      return { partition: end.partition, committed: at, lag: Number(end.high) - at };
    });
  } finally {
    await admin.disconnect();
  }
}

/** Messages of the group still to consume (end offsets minus committed offsets) on `topic`. */
export async function groupLag(kafka: Kafka, group: string, topic: string): Promise<number> {
  return (await partitionLags(kafka, group, topic)).reduce((n, p) => n + p.lag, 0);
}

/**
 * Waits until both stages have consumed everything: the routing group its input (lag 0), and the
 * owners the ops topic. The ops topic is written in transactions, so its end offset counts the commit
 * marker after the last record: the owners are done when each partition has stayed at most that one
 * offset behind for a while (idle marks keep arriving: a stuck owner falls further behind).
 */
export async function waitDrained(kafka: Kafka, group: string, topic: string, timeoutMs: number, alive?: () => boolean): Promise<void> {
  let since = 0;
  await waitFor(async () => {
    if (alive && !alive()) throw new Error('the processor died');
    const ops = (await groupLag(kafka, group, topic)) === 0 ? await partitionLags(kafka, `${group}.owners`, `${group}.ops`).catch(() => null) : null;
    if (!ops || ops.some((p) => p.lag > 1)) {
      since = 0;
      return false;
    }
    since ||= Date.now();
    return Date.now() - since >= 2500;
  }, { timeoutMs, intervalMs: 250, what: `group ${group} to consume everything on ${topic}, and its owners the ops topic` });
}

// ---------------------------------------------------------------------------------------------
// End state

export interface EndState {
  /** tag -> cpi -> bucket index -> encoded bucket (the owner's window, as persisted) */
  windows: WindowsState;
  /** tag -> rule id -> state JSON */
  ruleStates: Record<string, Record<string, string>>;
  /** offer events read committed from the offers topic */
  offers: WireCloudEvent<OfferData>[];
  offerMessages: ReadMessage[];
  /** decisions topic: "<offerId> <outcome> <reason>" */
  decisions: string[];
}

export type WindowsState = Record<string, Record<string, Record<string, string>>>;

/** The windows and rule states of some entities, as two runs (or a run and a replay) compare them. */
export function endStateOf(entities: ReadonlyMap<string, EntityState>, tags: readonly string[]): Pick<EndState, 'windows' | 'ruleStates'> {
  const windows: WindowsState = {};
  const ruleStates: EndState['ruleStates'] = {};
  for (const tag of tags) {
    const e = entities.get(tag);
    windows[tag] = Object.fromEntries([...(e?.windows ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)).map(([cpi, w]) => [
      cpi, Object.fromEntries([...w.buckets].sort(([a], [b]) => a - b).map(([i, bucket]) => [String(i), encodeBucket(bucket)])),
    ]));
    ruleStates[tag] = Object.fromEntries([...(e?.rules ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, state]) => [id, JSON.stringify(state)]));
  }
  return { windows, ruleStates };
}

/** Reads the owner partitions' persisted state of this prefix (every `{prefix:p:*}:entities` hash) for these stores. */
export async function readWindows(redisUrl: string, prefix: string, stores: string[], ruleSet: RuleSet): Promise<Pick<EndState, 'windows' | 'ruleStates'>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    const rules = taskRulesOf(ruleSet, buildRouting(ruleSet));
    const hashes: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}:p:*}:entities`, 'COUNT', 1000);
      hashes.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    const entities = new Map<string, EntityState>();
    for (const key of hashes) {
      const task = PartitionTask.restore(0, 1, rules, new Map(Object.entries(await redis.hgetall(key))), null);
      for (const [tag, e] of task.entities) entities.set(tag, e);
    }
    return endStateOf(entities, stores.map((s) => tagOf('storeId', s)));
  } finally {
    redis.disconnect();
  }
}

export async function readOutputs(names: RunNames, expectedOffers: number): Promise<Pick<EndState, 'offers' | 'offerMessages' | 'decisions'>> {
  // the owners' last decisions follow the idle marks' rounds: settle long enough for them
  const offerMessages = await waitForMessages(names.topics.offers, expectedOffers, { timeoutMs: 60_000, settleMs: 5000 });
  const decisions = await waitForMessages(names.topics.decisions, 1, { timeoutMs: 30_000, settleMs: 3000 });
  return {
    offerMessages,
    offers: offerMessages.map((m) => m.json as WireCloudEvent<OfferData>),
    decisions: decisions.map((m) => {
      const d = (m.json as { data: { offerId?: string; outcome: string; reason?: string } }).data;
      return `${d.offerId ?? (m.json as { id: string }).id} ${d.outcome} ${d.reason ?? ''}`;
    }),
  };
}

export function kafka(): Kafka {
  return kafkaClient();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
