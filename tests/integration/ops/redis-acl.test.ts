// A Redis ACL user with only what cpiwatch needs (src/ops/redis-acl.ts, shown in docs/operations.md):
// the state-store contract and a pipeline run pass as that user, and everything else is refused.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { aclSetUserArgs } from '../../../src/ops/redis-acl.js';
import { connectRedis } from '../../../src/store/redis/connect.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { offerLedgerContract } from '../../contract/offer-ledger.contract.js';
import { deleteKeys, redisClient, services, uniqueId } from '../../support/index.js';
import { expectInMemoryOffersOn } from '../../support/offers-on-redis.js';

const user = uniqueId('cpw-acl');
const password = randomBytes(12).toString('hex');
const prefix = uniqueId('acl');
const admin = redisClient();

/** Settings as production would have them: the user in REDIS_URL, the password from a file. */
function aclSettings() {
  const url = new URL(services().redisUrl);
  url.username = user;
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-acl-'));
  writeFileSync(join(dir, 'redis-password'), `${password}\n`);
  return loadSettings({ REDIS_URL: url.toString(), REDIS_PASSWORD_FILE: join(dir, 'redis-password'), REDIS_PREFIX: prefix });
}

beforeAll(async () => {
  await admin.call('ACL', 'SETUSER', ...aclSetUserArgs(user, password, prefix));
});

afterAll(async () => {
  await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
  await deleteKeys(admin, `{${prefix}:`);
  await admin.quit();
});

offerLedgerContract('redis as a least-privilege ACL user', async () => {
  const client = connectRedis(aclSettings());
  const store = new RedisStore(client, prefix);
  return { store, done: () => store.close() };
});

describe('the cpiwatch ACL user', () => {
  let client: Redis;
  beforeAll(() => {
    client = connectRedis(aclSettings()) as Redis;
  });
  afterAll(async () => {
    await client.quit().catch(() => undefined);
  });

  it('is who the client authenticates as', async () => {
    expect(await client.call('ACL', 'WHOAMI').catch((e: Error) => e.message)).toMatch(/NOPERM|cpw-acl/);
    expect(await client.ping()).toBe('PONG');
  });

  it('runs the pipeline on the curbside scenario with the same offers as the in-memory store', async () => {
    await expectInMemoryOffersOn(aclSettings());
  });

  it('is refused everything else', async () => {
    const denied = async (p: Promise<unknown>) => expect(await p.then(() => 'allowed', (e: Error) => e.message)).toMatch(/NOPERM/);
    await denied(client.flushall());
    await denied(client.flushdb());
    await denied(client.keys('*'));
    await denied(client.call('CONFIG', 'GET', 'requirepass'));
    await denied(client.call('ACL', 'LIST'));
    await denied(client.get('someone-else:key'));
    await denied(client.set(`{other:${prefix}}:x`, '1'));
    await denied(client.call('SCRIPT', 'FLUSH'));
    await denied(client.call('SHUTDOWN'));
    expect(await client.set(`{${prefix}:d}:email:probe`, '1')).toBe('OK');
  });
});
