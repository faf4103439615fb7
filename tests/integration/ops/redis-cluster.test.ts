// The engine on a three-master Redis Cluster (scripts/stack.sh cluster-up: Debian's redis-server,
// cluster-enabled, loopback ports): the state-store contract and a pipeline run on the curbside
// scenario, through the same connectRedis as production. Hash tags keep every script in one slot,
// so no CROSSSLOT error; keys of different entities do spread over the masters.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { connectRedis } from '../../../src/store/redis/connect.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { offerLedgerContract } from '../../contract/offer-ledger.contract.js';
import { uniqueId } from '../../support/index.js';
import { exampleRules } from '../../support/processor.js';
import { offersOnStore, opsScenario, uninterrupted } from './scenario.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
let nodes = '';

function clusterSettings(prefix: string) {
  return loadSettings({ REDIS_URL: 'redis://127.0.0.1', REDIS_CLUSTER_NODES: nodes, REDIS_PREFIX: prefix });
}

beforeAll(async () => {
  // idempotent: a running healthy cluster is reused
  const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'scripts/stack.sh'), 'cluster-up'], { cwd: ROOT, timeout: 90_000 });
  nodes = /^export REDIS_CLUSTER_NODES=(.+)$/m.exec(stdout)?.[1] ?? '';
  expect(nodes.split(',')).toHaveLength(3);
}, 120_000);

offerLedgerContract('redis cluster (3 masters)', async () => {
  const prefix = uniqueId('cluster');
  const client = connectRedis(clusterSettings(prefix));
  const store = new RedisStore(client, prefix);
  return { store, done: () => store.close() };
});

describe('both stages on Redis Cluster', () => {
  const prefix = uniqueId('cluster-pipe');
  let client: Cluster;
  beforeAll(() => {
    client = connectRedis(clusterSettings(prefix)) as Cluster;
  });
  afterAll(async () => {
    await client.quit().catch(() => undefined);
  });

  it('decides the same offers as the local engine, with keys on several masters and no CROSSSLOT', async () => {
    const ruleSet = await exampleRules();
    const scenario = opsScenario(prefix, { stores: 6, busyStores: 3 });
    // twelve owner partitions: twelve hash-tagged slots (plus the ledger's and the frontier's)
    const offers = await offersOnStore(client, prefix, ruleSet, scenario, 100, 12);
    expect(offers.length).toBeGreaterThan(20);
    expect(offers).toEqual((await uninterrupted(ruleSet, scenario)).offered.map((d) => d.offerId).sort());

    // the partitions' keys are spread over the masters (each partition in one slot: its hash tag)
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(masters.map(async (m) => (await m.scan('0', 'MATCH', `{${prefix}:*`, 'COUNT', 10_000))[1].length));
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });
});
