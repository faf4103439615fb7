// A redis-server of a test's own on a loopback port, for tests that stop, freeze or restart it (the
// shared Redis of the run is never touched): an append-only file in `dir`, no RDB snapshots.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { waitFor } from './wait.js';

/** Starts it and resolves once it answers PING; `extraArgs` go after the defaults (e.g. `--appendfsync always`). */
export function startRedisServer(port: number, dir: string, extraArgs: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', ...extraArgs], { stdio: 'ignore' });
  return waitFor(async () => ((await answersPing(port)) ? child : undefined), { timeoutMs: 10_000, what: `redis-server on ${port}` });
}

/** A raw PING on the port (no client library: nothing retries or queues), true on +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => { s.write('PING\r\n'); });
    s.on('data', (d) => { resolve(String(d).startsWith('+PONG')); s.destroy(); });
    s.on('error', () => resolve(false));
  });
}
