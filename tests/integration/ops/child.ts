// `node bin/cpiwatch.js run` as a child process with a test's settings, for the shutdown, scale-out
// and rules-folder tests: its pino lines are collected, and it can be stopped by signal.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { waitFor } from '../../support/index.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

export interface Child {
  process: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Not exited yet (nor killed by a signal). */
  running(): boolean;
  /** The first log line with this `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The first log line `match` accepts; `what` names it in the timeout's error. */
  waitForLogWhere(match: (l: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** `cpiwatch run` with `env` over a bare environment (LOG_LEVEL info unless `env` says otherwise), on the shipped rules or `options.rules`. */
export function startChild(env: Record<string, string>, options: { rules?: string } = {}): Child {
  const child = spawn(process.execPath, [join(ROOT, 'bin/cpiwatch.js'), 'run', '--rules', options.rules ?? join(ROOT, 'rules')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: 'info', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const l of lines) {
      try { logs.push(JSON.parse(l) as Record<string, unknown>); } catch { stderr.push(l); }
    }
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const waitForLogWhere: Child['waitForLogWhere'] = (match, what, timeoutMs = 30_000) =>
    waitFor(() => logs.find(match), { timeoutMs, what: `${what} (stderr: ${stderr.join('').slice(-500)})` });
  return {
    process: child,
    logs,
    stderr,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    waitForLog: (msg, timeoutMs) => waitForLogWhere((l) => l.msg === msg, `log "${msg}"`, timeoutMs),
    waitForLogWhere,
  };
}

/** True once the group has committed every partition of the topic up to its end. */
export async function caughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return ends.every((e) => offsets!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
  } finally {
    await admin.disconnect();
  }
}

/** The environment of `cpiwatch run` for a test's settings. */
export function childEnv(s: { KAFKA_BROKERS: string[]; REDIS_URL: string; REDIS_PREFIX: string; KAFKA_GROUP_ID: string; EMAIL_GROUP_ID: string; EVENTS_TOPIC: string; OFFERS_TOPIC: string; DECISIONS_TOPIC: string; DLQ_TOPIC: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: s.KAFKA_BROKERS.join(','), REDIS_URL: s.REDIS_URL, REDIS_PREFIX: s.REDIS_PREFIX, KAFKA_GROUP_ID: s.KAFKA_GROUP_ID,
    EMAIL_GROUP_ID: s.EMAIL_GROUP_ID, EVENTS_TOPIC: s.EVENTS_TOPIC, OFFERS_TOPIC: s.OFFERS_TOPIC, DECISIONS_TOPIC: s.DECISIONS_TOPIC, DLQ_TOPIC: s.DLQ_TOPIC,
    ...extra,
  };
}

/** `npm run build`, one at a time across test files (two tsc runs must not write dist/ at once). */
export async function build(): Promise<void> {
  // CPIWATCH_TEST_NO_BUILD=1 runs the dist/ already there (e.g. while a shared tree does not compile)
  if (process.env.CPIWATCH_TEST_NO_BUILD === '1') return;
  await promisify(execFile)('flock', [join(tmpdir(), 'cpiwatch-build.lock'), 'npm', 'run', 'build'], { cwd: ROOT, timeout: 150_000 });
}
