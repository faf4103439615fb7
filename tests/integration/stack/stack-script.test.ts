// scripts/stack.sh guarantees: `up` is idempotent, `down` stops exactly the pids `up` started
// (never a recycled or foreign pid), and `env` agrees with what the tests were given. Uses its
// own stack folder and a free port, with Redis only (quick), so it never touches the shared stack.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { services, servicesSource } from '../../support/index.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const STACK = join(ROOT, 'scripts', 'stack.sh');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]!.startsWith('Z');
  } catch {
    return false;
  }
};

describe('scripts/stack.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-stack-'));
  let env: NodeJS.ProcessEnv;
  afterAll(async () => {
    await run('bash', [STACK, 'down'], { env }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('up is idempotent, down stops exactly its own pid and never a foreign one', async () => {
    const port = await freePort();
    env = { ...process.env, CPIWATCH_STACK_DIR: dir, CPIWATCH_REDIS_PORT: String(port) };
    const up1 = await run('bash', [STACK, 'up', 'redis'], { env });
    expect(up1.stdout).toContain(`export REDIS_URL=redis://127.0.0.1:${port}`);
    const pid = Number(readFileSync(join(dir, 'run', 'redis.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);

    const up2 = await run('bash', [STACK, 'up', 'redis'], { env });
    expect(up2.stderr).toContain(`already running (pid ${pid})`);
    expect(Number(readFileSync(join(dir, 'run', 'redis.pid'), 'utf8'))).toBe(pid);

    await run('bash', [STACK, 'down', 'redis'], { env });
    expect(alive(pid)).toBe(false);

    // a stale pid file pointing at someone else's process: down must leave that process alone
    const foreign = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'run', 'redis.pid'), String(foreign.pid));
      const down = await run('bash', [STACK, 'down', 'redis'], { env });
      expect(down.stderr).toContain('redis: not running');
      expect(alive(foreign.pid!)).toBe(true);
      const status = await run('bash', [STACK, 'status'], { env }).catch((e: { stdout: string; code: number }) => e);
      expect(status.stdout).toMatch(/^redis\s+stopped/m);
    } finally {
      foreign.kill();
    }
  });

  it('env agrees with the services the tests were given when they come from the local stack', async () => {
    const { stdout } = await run('bash', [STACK, 'env']);
    const exported = Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.keys(exported)).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'REDIS_URL', 'SMTP_URL']));
    expect(exported).not.toHaveProperty('REDIS_CLUSTER_NODES');
    if (servicesSource().includes('kafka=local-stack')) expect(exported.KAFKA_BROKERS).toBe(services().kafkaBrokers.join(','));
    if (servicesSource().includes('redis=local-stack')) expect(exported.REDIS_URL).toBe(services().redisUrl);
  });
});
