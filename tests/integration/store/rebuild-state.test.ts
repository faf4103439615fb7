// The Redis side of `cpiwatch rebuild` on a real Redis: seed-decisions.lua passes the ledger-seed
// contract, the reset removes the processing state of its prefix only (e-mail states kept), and
// the state marker's "rebuilding" state stops a processor at start and while running.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../../src/store/redis/keys.js';
import { RedisLedgerSeeder } from '../../../src/store/redis/ledger-seed.js';
import { RedisPartitionState } from '../../../src/store/redis/partition-state.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { resetState } from '../../../src/store/redis/state-reset.js';
import { StateMarker } from '../../../src/store/redis/state-marker.js';
import { ledgerSeedContract } from '../../contract/ledger-seed.contract.js';
import { deleteKeys, services, uniqueId } from '../../support/index.js';

ledgerSeedContract('redis', async () => {
  const client = new Redis(services().redisUrl);
  const prefix = uniqueId('seed');
  const store = new RedisStore(client, prefix);
  const seeder = new RedisLedgerSeeder(client, store.keys);
  return {
    seed: (seeds) => seeder.seed(seeds),
    decide: (candidates) => store.decide(candidates),
    done: async () => { await deleteKeys(client, `{${prefix}:`); await store.close(); },
  };
});

describe('the state a rebuild removes, on Redis', () => {
  const client = new Redis(services().redisUrl);
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(client, `{${p}`);
    client.disconnect();
  });

  it('removes owner partitions, frontier, ledger and journals of its prefix; keeps e-mail states and other prefixes', async () => {
    const prefix = uniqueId('reset');
    // a prefix that extends this one ("<prefix>:eu") must not be touched
    const neighbour = `${prefix}:eu`;
    prefixes.push(prefix, neighbour);
    const keys = new RedisKeys(prefix);
    for (const k of [keys, new RedisKeys(neighbour)]) {
      const s = new RedisPartitionState(client, k);
      for (const p of [0, 1]) {
        const { epoch } = await s.claim(`g.ops:${p}`);
        await s.save(`g.ops:${p}`, epoch, { entities: new Map([['storeId=S1', '{}']]), offsets: { [`g.ops:${p}`]: 10 }, meta: '{}' });
      }
      await client.hset(k.frontier('g.ops'), '0', '{}');
      const store = new RedisStore(client, k.prefix);
      await store.decide([{ offerId: 'o1', ruleId: 'r', customer: 'C1', scopeTag: 'storeId=S1', time: 1, retainMs: 60_000, budget: { max: 5, perMs: 60_000 } }]);
      await client.set(k.publishJournal('g.ops:0'), '{}');
      await client.set(k.publishJournal('events:1'), '{}');
      await client.set(k.email('o1'), 'sent');
    }
    const all = async () => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
        found.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      return found;
    };
    const ofNeighbour = (list: string[]) => list.filter((k) => k.startsWith(`{${neighbour}:`)).sort();
    const neighbourBefore = ofNeighbour(await all());
    // 8 partition keys, the frontier, offer, history, budget, 2 journals, the e-mail state
    expect(neighbourBefore.length).toBe(15);

    const dry = await resetState(client, keys, { opsTopic: 'g.ops', partitions: 2 }, true);
    const expected = { partitionKeys: 8, frontier: 1, offers: 1, histories: 1, budgets: 1, journals: 2, emails: 1, other: 0 };
    expect(dry).toEqual(expected);
    expect(await client.exists(keys.partitionEpoch('g.ops:0'))).toBe(1); // a dry run changes nothing

    expect(await resetState(client, keys, { opsTopic: 'g.ops', partitions: 2 })).toEqual(expected);
    const left = await all();
    expect(left.filter((k) => !k.startsWith(`{${neighbour}:`))).toEqual([keys.email('o1')]);
    expect(ofNeighbour(left)).toEqual(neighbourBefore);
    // again: nothing more to remove
    expect(await resetState(client, keys, { opsTopic: 'g.ops', partitions: 2 })).toEqual({ ...expected, partitionKeys: 0, frontier: 0, offers: 0, histories: 0, budgets: 0, journals: 0 });
  });

  it('a "rebuilding" marker stops a processor at start and while running; the finished one lets it start', async () => {
    const prefix = uniqueId('marker');
    prefixes.push(prefix);
    const keys = new RedisKeys(prefix);
    const marker = new StateMarker(client, keys);
    expect(await marker.check('g.owners', false, ['g.ops:0'])).toBeNull();
    expect(await marker.watch()).toBeNull();
    await marker.beginRebuild('g.owners', 'earliest');
    expect(await marker.watch()).toMatch(/^a rebuild of the state \(cpiwatch rebuild --from earliest, started .*\) is in progress or was interrupted/);
    expect(await marker.check('g.owners', true, ['g.ops:0'])).toMatch(/is in progress or was interrupted/);
    expect(await marker.check('g.owners', false, ['g.ops:0'])).toMatch(/is in progress or was interrupted/);
    await marker.finishRebuild('g.owners', 'earliest');
    expect(await marker.check('g.owners', true, ['g.ops:0'])).toBeNull();
    expect(await marker.watch()).toBeNull();
    expect(await marker.read()).toMatchObject({ group: 'g.owners', rebuilt: { from: 'earliest' } });
    await client.del(keys.stateMarker());
    expect(await marker.watch()).toBe('the state marker disappeared from Redis (Redis restarted empty or was flushed)');
  });
});
