// A graceful stop that cannot finish ends at SHUTDOWN_TIMEOUT anyway: `node bin/cpiwatch.js run`
// runs on its own redis-server, which is frozen (SIGSTOP: the connection stays open and nothing
// answers, as a hung Redis host); SIGTERM then finds the processor's stop stuck on Redis, and the
// process logs what was pending and exits 1 within the deadline, instead of hanging until SIGKILL;
// and a SIGTERM while the start still waits for that Redis ends in time as well.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics, freePort } from '../../support/index.js';
import { createProcessorTopics, testSettings } from '../../support/processor.js';
import { startRedisServer } from '../../support/redis-server.js';
import { build, childEnv, startChild, type Child } from './child.js';

const SHUTDOWN_TIMEOUT_MS = 3000;

describe('shutdown deadline', () => {
  const children: Child[] = [];
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-deadline-redis-'));
  const { settings, topics } = testSettings('deadline');

  beforeAll(async () => {
    await build();
  }, 150_000);

  afterAll(async () => {
    for (const c of children) if (c.running()) c.process.kill('SIGKILL');
    if (redis && redis.exitCode === null) {
      redis.kill('SIGCONT');
      redis.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(...Object.values(topics)).catch(() => undefined);
  });

  it('a stop stuck on a frozen Redis exits 1 at SHUTDOWN_TIMEOUT, naming what was pending', async () => {
    redisPort = await freePort();
    redis = await startRedisServer(redisPort, dir);
    await createProcessorTopics(topics, 1);
    const child = startChild(childEnv(settings, { REDIS_URL: `redis://127.0.0.1:${redisPort}`, SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms` }));
    children.push(child);
    await child.waitForLog('processor started', 45_000);

    redis.kill('SIGSTOP');
    const signalledAt = Date.now();
    child.process.kill('SIGTERM');
    const exit = await Promise.race([
      child.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${SHUTDOWN_TIMEOUT_MS + 5000} ms after SIGTERM: ${child.stderr.join('').slice(-500)}`)), SHUTDOWN_TIMEOUT_MS + 5000)),
    ]);
    const tookMs = exit.at - signalledAt;
    console.log(`[shutdown-deadline] exit ${exit.code} ${tookMs} ms after SIGTERM (SHUTDOWN_TIMEOUT ${SHUTDOWN_TIMEOUT_MS} ms)`);
    expect(exit.code).toBe(1);
    // it waited for the stop (not a failure at once), and not longer than the deadline allows
    expect(tookMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 100);
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1000);
    const timedOut = child.logs.find((l) => l.msg === 'graceful shutdown timed out');
    expect(timedOut).toMatchObject({ level: 'error', signal: 'SIGTERM', timeoutMs: SHUTDOWN_TIMEOUT_MS });
    console.log(`[shutdown-deadline] reason: ${String(timedOut!.reason)}`);
    expect(String(timedOut!.reason)).toMatch(/^still pending: the processor \(/);
    expect(child.logs.some((l) => l.msg === 'shut down cleanly')).toBe(false);
  });

  it('a SIGTERM while the start still waits for a frozen Redis ends within SHUTDOWN_TIMEOUT too', async () => {
    // still frozen from the test before (or frozen now): the start hangs on its first PING
    if (!redis) {
      redisPort = await freePort();
      redis = await startRedisServer(redisPort, dir);
    }
    redis.kill('SIGSTOP');
    const child = startChild(childEnv(settings, { REDIS_URL: `redis://127.0.0.1:${redisPort}`, SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`, KAFKA_GROUP_ID: `${settings.KAFKA_GROUP_ID}-2` }));
    children.push(child);
    await child.waitForLog('effective configuration', 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.logs.some((l) => l.msg === 'processor started')).toBe(false);
    const signalledAt = Date.now();
    child.process.kill('SIGTERM');
    const exit = await Promise.race([
      child.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${SHUTDOWN_TIMEOUT_MS + 5000} ms after SIGTERM`)), SHUTDOWN_TIMEOUT_MS + 5000)),
    ]);
    const tookMs = exit.at - signalledAt;
    console.log(`[shutdown-deadline] during the start: exit ${exit.code} ${tookMs} ms after SIGTERM`);
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1000);
    // whether the stop got stuck depends on whether the PING was queued yet: either a clean stop, or
    // exit 1 at the deadline with the reason; never a hang and never 0 without 'shut down cleanly'
    if (exit.code === 0) expect(child.logs.some((l) => l.msg === 'shut down cleanly')).toBe(true);
    else {
      expect(exit.code).toBe(1);
      expect(String(child.logs.find((l) => l.msg === 'graceful shutdown timed out')?.reason)).toMatch(/^still pending: the processor/);
    }
  });
});
