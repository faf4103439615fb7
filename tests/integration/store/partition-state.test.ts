// The partition-state contract on a real Redis, and what only the Redis version has: the key
// layout (one slot, no TTLs), bytes as sent, saves split into several script calls, and claims
// overtaken by a newer one.
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../../src/store/redis/keys.js';
import { PartitionFencedError, RedisPartitionState } from '../../../src/store/redis/partition-state.js';
import { ODD_ENTITIES, partitionStateContract } from '../../contract/partition-state.contract.js';
import { deleteKeys, redisClient, uniqueId } from '../../support/index.js';

partitionStateContract('redis', async () => {
  const keys = new RedisKeys(uniqueId('partition-state'));
  const a = redisClient();
  const b = redisClient();
  return {
    state: new RedisPartitionState(a, keys),
    other: new RedisPartitionState(b, keys),
    done: async () => {
      await deleteKeys(a, `{${keys.prefix}:`);
      await Promise.all([a.quit(), b.quit()]);
    },
  };
});

/** The client, with an async hook run before each call of the named methods (n: 1 for the first call). */
function withHooks(client: Redis, hooks: Record<string, (n: number) => Promise<void>>): Redis {
  const calls = new Map<string, number>();
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const hook = typeof prop === 'string' ? hooks[prop] : undefined;
      if (!hook) return value.bind(target);
      return async (...args: unknown[]) => {
        const n = (calls.get(prop as string) ?? 0) + 1;
        calls.set(prop as string, n);
        await hook(n);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('RedisPartitionState', () => {
  const keys = new RedisKeys(uniqueId('partition-redis'));
  let redis: Redis;
  let other: Redis;
  beforeAll(() => {
    redis = redisClient();
    other = redisClient();
  });
  afterAll(async () => {
    await deleteKeys(redis, `{${keys.prefix}:`);
    await Promise.all([redis.quit(), other.quit()]);
  });

  it('keeps a partition in four keys of one slot, without TTLs', async () => {
    const state = new RedisPartitionState(redis, keys);
    const { epoch } = await state.claim('internal:3');
    await state.save('internal:3', epoch, { entities: new Map([['a', '1']]), offsets: { 'events:0': 1 }, meta: 'm' });
    const base = keys.partition('internal:3');
    expect(base).toBe(`{${keys.prefix}:p:internal:3}`);
    const names = ['epoch', 'offsets', 'entities', 'meta'].map((s) => `${base}:${s}`);
    expect(new Set(names.map((k) => calculateSlot(k))).size).toBe(1);
    expect(await Promise.all(names.map((k) => redis.type(k)))).toEqual(['string', 'hash', 'hash', 'string']);
    expect(await Promise.all(names.map((k) => redis.pttl(k)))).toEqual([-1, -1, -1, -1]);
    expect(() => keys.partition('bad}name')).toThrow(/must not contain/);
  });

  it('stores tags and states as their UTF-8 bytes', async () => {
    const state = new RedisPartitionState(redis, keys);
    const { epoch } = await state.claim('bytes:0');
    await state.save('bytes:0', epoch, { entities: ODD_ENTITIES, offsets: {} });
    const stored = await redis.hgetallBuffer(keys.partitionEntities('bytes:0'));
    expect(Object.keys(stored).sort()).toEqual([...ODD_ENTITIES.keys()].sort());
    for (const [tag, value] of ODD_ENTITIES) expect(stored[tag]!.equals(Buffer.from(value, 'utf8'))).toBe(true);
  });

  it('splits a large save into calls that each check the epoch; only the last writes offsets and meta', async () => {
    const entities = new Map<string, string | null>();
    for (let i = 0; i < 3000; i++) entities.set(`t${i}`, 'v'.repeat(100));
    let saves = 0;
    const state = new RedisPartitionState(withHooks(redis, { savePartition: async () => void saves++ }), keys, 64 * 1024);
    const { epoch } = await state.claim('split:0');
    await state.save('split:0', epoch, { entities, offsets: { 'events:0': 5 }, meta: 'm' });
    expect(saves).toBeGreaterThan(4);
    expect(await new RedisPartitionState(other, keys).claim('split:0')).toMatchObject({ offsets: { 'events:0': 5 }, meta: 'm', entities });

    // fenced between two calls of one save: the first call's entities stay, offsets and meta do not
    const owner = new RedisPartitionState(other, keys);
    const mine = await owner.claim('split:1');
    await owner.save('split:1', mine.epoch, { entities: new Map(), offsets: { 'events:0': 1 }, meta: 'old' });
    const rival = new RedisPartitionState(redis, keys);
    let rivalEpoch = 0;
    const rivalClaimsBeforeCall2 = async (n: number) => {
      if (n === 2) rivalEpoch = (await rival.claim('split:1')).epoch;
    };
    const late = new RedisPartitionState(withHooks(other, { savePartition: rivalClaimsBeforeCall2 }), keys, 64 * 1024);
    const err = await late.save('split:1', mine.epoch, { entities, offsets: { 'events:0': 2 }, meta: 'new' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartitionFencedError);
    expect(err).toMatchObject({ epoch: mine.epoch, current: rivalEpoch });
    const snap = await rival.claim('split:1');
    expect(snap).toMatchObject({ offsets: { 'events:0': 1 }, meta: 'old' });
    expect(snap.entities.size).toBeGreaterThan(0);
    expect(snap.entities.size).toBeLessThan(entities.size);
  });

  it('loads a big partition in HSCAN chunks, and a claim overtaken during its scan throws PartitionFencedError', async () => {
    const owner = new RedisPartitionState(redis, keys);
    const { epoch } = await owner.claim('scan:0');
    const entities = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) entities.set(`customerId=C${i}`, `{"i":${i}}`);
    await owner.save('scan:0', epoch, { entities, offsets: { 'events:0': 1 } });

    let scans = 0;
    const counted = new RedisPartitionState(withHooks(redis, { hscan: async () => void scans++ }), keys);
    expect((await counted.claim('scan:0')).entities).toEqual(entities);
    expect(scans).toBeGreaterThan(10);

    const rival = new RedisPartitionState(other, keys);
    let rivalEpoch = 0;
    const rivalClaimsBeforeScan3 = async (n: number) => {
      if (n === 3) rivalEpoch = (await rival.claim('scan:0')).epoch;
    };
    const overtaken = new RedisPartitionState(withHooks(redis, { hscan: rivalClaimsBeforeScan3 }), keys);
    const err = await overtaken.claim('scan:0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartitionFencedError);
    expect(err).toMatchObject({ partition: 'scan:0', current: rivalEpoch });
    expect((err as PartitionFencedError).epoch).toBe(rivalEpoch - 1);
  });
});
