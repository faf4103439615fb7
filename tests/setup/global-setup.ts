// vitest global setup of the "integration" project: finds a real Kafka broker and a real Redis
// before any test file runs, in this order, per service:
//   1. the environment: KAFKA_BROKERS (host:port[,host:port]) and REDIS_URL (redis://host:port);
//   2. a Docker engine, if one answers: testcontainers starts apache/kafka (KRaft) and redis;
//   3. otherwise the local stack: scripts/stack.sh up kafka redis (no Docker needed).
// CPIWATCH_TEST_STACK=docker|local forces step 2 or 3. Whatever is found must answer (Kafka a
// metadata request, Redis PING) or the whole run fails with a message saying why; no test is
// ever skipped for a missing service. The result is provided to tests (see
// tests/support/services.ts) and exported to the environment (KAFKA_BROKERS, REDIS_URL) of the
// test workers. The local stack is left running afterwards (scripts/stack.sh down stops it);
// containers are stopped.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import '../support/services.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (msg: string) => console.log(`[test services] ${msg}`);

type Source = 'env' | 'docker' | 'local-stack';
interface Resolved {
  kafkaBrokers?: string[];
  redisUrl?: string;
  kafkaSource?: Source;
  redisSource?: Source;
  stop: Array<() => Promise<void>>;
}

export function pinnedKafkaVersion(): string {
  const pom = readFileSync(join(ROOT, 'scripts/kafka/pom.xml'), 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m?.[1]) throw new Error('scripts/kafka/pom.xml has no <kafka.version>');
  return m[1];
}

// ---------------------------------------------------------------------------------------------
// Docker (testcontainers)
// ---------------------------------------------------------------------------------------------
async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    log(`Docker engine found (${client.info.containerRuntime.host}, ${client.info.containerRuntime.operatingSystem}, server ${client.info.containerRuntime.serverVersion})`);
    return true;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Could not find a working container runtime strategy/i.test(message)) {
      log('no Docker engine answers (testcontainers: "Could not find a working container runtime strategy")');
      return false;
    }
    throw new Error(`testcontainers could not talk to Docker: ${message}. Set CPIWATCH_TEST_STACK=local to use scripts/stack.sh instead.`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function startContainers(r: Resolved, needKafka: boolean, needRedis: boolean): Promise<void> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const jobs: Promise<void>[] = [];
  if (needKafka) {
    jobs.push(
      (async () => {
        // The client listener is mapped to the same port number on the host, so the broker can
        // advertise an address that works from outside the container.
        const port = await freePort();
        const image = `apache/kafka:${process.env.CPIWATCH_KAFKA_IMAGE_TAG ?? pinnedKafkaVersion()}`;
        log(`starting ${image} (KRaft) on ${host}:${port}`);
        const kafka = await new GenericContainer(image)
          .withEnvironment({
            CLUSTER_ID: randomBytes(16).toString('base64url'),
            KAFKA_NODE_ID: '1',
            KAFKA_PROCESS_ROLES: 'broker,controller',
            KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
            KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},BROKER://0.0.0.0:9094,CONTROLLER://0.0.0.0:9093`,
            KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port},BROKER://localhost:9094`,
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT',
            KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
            KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
            KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '10',
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
            KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
            KAFKA_NUM_PARTITIONS: '1',
          })
          .withExposedPorts({ container: port, host: port })
          .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
          .withStartupTimeout(180_000)
          .start();
        r.kafkaBrokers = [`${host}:${port}`];
        r.kafkaSource = 'docker';
        r.stop.push(async () => void (await kafka.stop()));
      })(),
    );
  }
  if (needRedis) {
    jobs.push(
      (async () => {
        const image = process.env.CPIWATCH_REDIS_IMAGE ?? 'redis:7.4-alpine';
        log(`starting ${image}`);
        const redis = await new GenericContainer(image)
          .withExposedPorts(6379)
          .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
          .withStartupTimeout(120_000)
          .start();
        r.redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
        r.redisSource = 'docker';
        r.stop.push(async () => void (await redis.stop()));
      })(),
    );
  }
  await Promise.all(jobs);
}

// ---------------------------------------------------------------------------------------------
// Local stack (scripts/stack.sh)
// ---------------------------------------------------------------------------------------------
function runStack(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'scripts/stack.sh'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`scripts/stack.sh ${args.join(' ')} failed (exit ${code}):\n${err.trim().split('\n').slice(-15).join('\n')}`));
    });
  });
}

async function startLocalStack(r: Resolved, needKafka: boolean, needRedis: boolean): Promise<void> {
  const svcs = [...(needKafka ? ['kafka'] : []), ...(needRedis ? ['redis'] : [])];
  log(`using the local stack: scripts/stack.sh up ${svcs.join(' ')}`);
  const t0 = Date.now();
  const out = await runStack(['up', ...svcs]);
  const env = Object.fromEntries(
    [...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]] as const),
  );
  if (needKafka) {
    if (!env.KAFKA_BROKERS) throw new Error('scripts/stack.sh up printed no KAFKA_BROKERS');
    r.kafkaBrokers = env.KAFKA_BROKERS.split(',');
    r.kafkaSource = 'local-stack';
  }
  if (needRedis) {
    if (!env.REDIS_URL) throw new Error('scripts/stack.sh up printed no REDIS_URL');
    r.redisUrl = env.REDIS_URL;
    r.redisSource = 'local-stack';
  }
  log(`local stack ready in ${((Date.now() - t0) / 1000).toFixed(1)}s (left running; scripts/stack.sh down stops it)`);
}

// ---------------------------------------------------------------------------------------------
// Checks: a service that does not answer fails the run, with the reason
// ---------------------------------------------------------------------------------------------
async function checkKafka(brokers: string[], source: Source): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'cpiwatch-test-setup',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + 60_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const c = await admin.describeCluster();
      await admin.disconnect();
      if (c.brokers.length > 0) return;
    } catch (err) {
      last = err;
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(
    `Kafka at ${brokers.join(',')} (from ${source}) does not answer a metadata request: ${String((last as Error)?.message ?? last).replace(/\.+$/, '')}` +
      (source === 'env' ? '. Unset KAFKA_BROKERS to let the tests start a broker themselves.' : ''),
  );
}

async function checkRedis(url: string, source: Source): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
  } catch (err) {
    throw new Error(
      `Redis at ${url} (from ${source}) does not answer PING: ${(err as Error).message.replace(/\.+$/, '')}` +
        (source === 'env' ? '. Unset REDIS_URL to let the tests start Redis themselves.' : ''),
    );
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const r: Resolved = { stop: [] };
  const envBrokers = process.env.KAFKA_BROKERS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (envBrokers?.length) {
    r.kafkaBrokers = envBrokers;
    r.kafkaSource = 'env';
    log(`Kafka from KAFKA_BROKERS=${envBrokers.join(',')}`);
  }
  if (process.env.REDIS_URL) {
    r.redisUrl = process.env.REDIS_URL;
    r.redisSource = 'env';
    log(`Redis from REDIS_URL=${process.env.REDIS_URL}`);
  }
  const needKafka = !r.kafkaBrokers;
  const needRedis = !r.redisUrl;
  const teardown = async () => {
    for (const stop of r.stop.reverse()) await stop().catch((e: unknown) => log(`stopping a container failed: ${String(e)}`));
  };
  try {
    if (needKafka || needRedis) {
      const forced = process.env.CPIWATCH_TEST_STACK;
      if (forced && forced !== 'docker' && forced !== 'local') throw new Error(`CPIWATCH_TEST_STACK must be docker or local, not ${forced}`);
      const useDocker = forced === 'docker' || (forced !== 'local' && (await dockerAnswers()));
      if (useDocker) await startContainers(r, needKafka, needRedis);
      else await startLocalStack(r, needKafka, needRedis);
    }
    await Promise.all([checkKafka(r.kafkaBrokers!, r.kafkaSource!), checkRedis(r.redisUrl!, r.redisSource!)]);
  } catch (err) {
    await teardown();
    throw err;
  }
  const source = `kafka=${r.kafkaSource} redis=${r.redisSource}`;
  log(`Kafka ${r.kafkaBrokers!.join(',')} [${r.kafkaSource}], Redis ${r.redisUrl} [${r.redisSource}] ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  project.provide('kafkaBrokers', r.kafkaBrokers!);
  project.provide('redisUrl', r.redisUrl!);
  project.provide('servicesSource', source);
  process.env.KAFKA_BROKERS = r.kafkaBrokers!.join(',');
  process.env.REDIS_URL = r.redisUrl!;
  process.env.CPIWATCH_TEST_SERVICES_SOURCE = source;
  return teardown;
}
