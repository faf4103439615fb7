// Redis over TLS, configured as production would be: `rediss://` in REDIS_URL and the private CA in
// REDIS_TLS_CA_FILE, through the same connectRedis. The test starts its own TLS-only redis-server
// (Debian's, built with TLS; no plaintext port) with a certificate for 127.0.0.1 signed by a test
// CA (tests/support/tls.ts), then runs the state-store contract and a pipeline over it, checks
// that a client trusting another CA (or only the system CAs) is refused with a certificate error,
// and that an ACL user with a password works over TLS. A redis-server without TLS support fails
// the file at start-up: this file never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { aclSetUserArgs } from '../../../src/ops/redis-acl.js';
import { connectRedis } from '../../../src/store/redis/connect.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { offerLedgerContract } from '../../contract/offer-ledger.contract.js';
import { freePort, makeTestTls, uniqueId, waitFor } from '../../support/index.js';
import { expectInMemoryOffersOn } from '../../support/offers-on-redis.js';

const tls = makeTestTls('redis-tls');
let server: TlsRedis;

interface TlsRedis { port: number; stop(): Promise<void> }

function serverArgs(port: number): string[] {
  return [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile,
    // clients verify the server; the server does not ask clients for certificates (no mutual TLS)
    '--tls-auth-clients', 'no',
    '--save', '', '--appendonly', 'no', '--dir', tls.dir,
  ];
}

/** Rejects when the child exits or cannot be spawned, with what it printed: a redis-server built
 * without TLS stops at once on `--tls-port` ("Bad directive"), which must fail, not skip. */
function exitOf(child: ChildProcess, port: number, output: () => string): Promise<never> {
  return new Promise((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run redis-server (${err.message}); install Debian's redis-server, which is built with TLS`)));
    child.once('exit', (code, signal) => reject(new Error(
      `redis-server exited (code ${code}, signal ${signal}) before answering on TLS port ${port}. `
      + `"Bad directive" on a tls-* option means this redis-server was built without TLS (BUILD_TLS=yes); its output:\n${output().slice(-2000)}`)));
  });
}

/** PING over TLS with the test CA until it answers. */
async function untilAnswers(port: number): Promise<void> {
  const probe = new Redis({ host: '127.0.0.1', port, tls: { ca: readFileSync(tls.caFile) }, retryStrategy: () => 100, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  try {
    await waitFor(() => probe.ping().then((p) => p === 'PONG'), { timeoutMs: 10_000, what: `redis-server on TLS port ${port}` });
  } finally {
    probe.disconnect();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(forced);
}

/** A TLS-only redis-server on a free port, answering; killed again if it never answers. */
async function startTlsRedis(): Promise<TlsRedis> {
  const port = await freePort();
  const child = spawn('redis-server', serverArgs(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  // if the test worker dies without afterAll, the server must not outlive it
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  const stop = async () => {
    process.off('exit', orphanGuard);
    await stopChild(child);
  };
  const exited = exitOf(child, port, () => output);
  exited.catch(() => undefined); // once it answers, a later exit (our own stop) is expected
  try {
    await Promise.race([exited, untilAnswers(port)]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}

/** Settings as an operator would write them for a TLS Redis with a private CA. */
function tlsSettings(prefix: string, env: Record<string, string> = {}) {
  return loadSettings({ REDIS_URL: `rediss://127.0.0.1:${server.port}`, REDIS_TLS_CA_FILE: tls.caFile, REDIS_PREFIX: prefix, ...env });
}

/** Node's codes for "issuer not trusted". redis-server sends the CA from --tls-ca-cert-file along
 * with its certificate (OpenSSL builds the chain), so Node reports the self-signed root it does not
 * trust; a server sending the leaf alone gives the second. Not a hostname or connection error. */
const UNTRUSTED_ISSUER = ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'];

/** The first 'error' a client emits. ioredis reconnects forever, so without this bound a refused
 * connection would look like a slow test instead of failing. The listener stays: the errors of
 * later attempts, until the caller disconnects, are expected and would otherwise print as unhandled. */
function firstError(client: Redis, ms = 5000): Promise<Error & { code?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no error from the client within ${ms} ms`)), ms);
    client.on('error', (err: Error) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

beforeAll(async () => {
  server = await startTlsRedis();
});

afterAll(async () => {
  await server?.stop();
  tls.remove();
});

offerLedgerContract('redis over TLS (rediss:// + REDIS_TLS_CA_FILE)', async () => {
  const prefix = uniqueId('tls');
  const store = new RedisStore(connectRedis(tlsSettings(prefix)), prefix);
  return { store, done: () => store.close() };
});

describe('Redis over TLS', () => {
  it('runs the pipeline on the curbside scenario with the same offers as the in-memory store', async () => {
    await expectInMemoryOffersOn(tlsSettings(uniqueId('tls-pipe')));
  });

  it('has no plaintext way in: a redis:// client on the same port is dropped', async () => {
    // proves the contract and the pipeline above went through TLS, not a plaintext fallback
    const plain = new Redis({ host: '127.0.0.1', port: server.port, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 3000 });
    plain.on('error', () => undefined);
    try {
      await expect(plain.ping()).rejects.toThrow(/Connection is closed|ECONNRESET|EPIPE/);
    } finally {
      plain.disconnect();
    }
  });

  it('refuses a server whose certificate the configured CA did not sign, at once', async () => {
    const client = connectRedis(tlsSettings(uniqueId('tls-other'), { REDIS_TLS_CA_FILE: tls.otherCaFile })) as Redis;
    const started = Date.now();
    try {
      const err = await firstError(client);
      expect(err.message).toMatch(/certificate/);
      expect(UNTRUSTED_ISSUER).toContain(err.code);
      // commands fail instead of queueing forever (maxRetriesPerRequest)
      await expect(client.ping()).rejects.toThrow(/max retries|certificate/i);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      client.disconnect();
    }
  });

  it('refuses the private CA\'s server when REDIS_TLS_CA_FILE is not set (system CAs only)', async () => {
    const client = connectRedis(loadSettings({ REDIS_URL: `rediss://127.0.0.1:${server.port}`, REDIS_PREFIX: uniqueId('tls-noca') })) as Redis;
    try {
      const err = await firstError(client);
      expect(err.message).toMatch(/certificate/);
      expect(UNTRUSTED_ISSUER).toContain(err.code);
    } finally {
      client.disconnect();
    }
  });
});

describe('an ACL user over TLS', () => {
  const user = uniqueId('cpw-tls');
  const password = randomBytes(12).toString('hex');
  const prefix = uniqueId('tls-acl');
  let admin: Redis;

  beforeAll(async () => {
    // the default user (no password on this server) over the same TLS settings
    admin = connectRedis(tlsSettings(prefix)) as Redis;
    await admin.call('ACL', 'SETUSER', ...aclSetUserArgs(user, password, prefix));
  });

  afterAll(async () => {
    await admin?.quit().catch(() => undefined);
  });

  const asUser = (pw: string) => connectRedis(tlsSettings(prefix, { REDIS_URL: `rediss://${user}@127.0.0.1:${server.port}`, REDIS_PASSWORD: pw })) as Redis;

  it('authenticates with REDIS_PASSWORD and gets only what its ACL allows', async () => {
    const client = asUser(password);
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.set(`{${prefix}:d}:email:probe`, '1')).toBe('OK');
      expect(await client.flushall().then(() => 'allowed', (e: Error) => e.message)).toMatch(/NOPERM/);
      expect(await admin.client('LIST')).toContain(`user=${user}`);
    } finally {
      await client.quit().catch(() => undefined);
    }
  });

  it('is refused with a wrong password', async () => {
    const client = asUser('wrong');
    try {
      expect((await firstError(client)).message).toMatch(/WRONGPASS/);
    } finally {
      client.disconnect();
    }
  });
});
