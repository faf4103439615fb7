// Hostile values that pass decoding must not stall a partition in Redis: a profile with a field
// named `__t` (once the facts hash's own timestamp), a lone surrogate (cjson rejects it: caught at
// decoding now), and an expected duration of 5e-324 (an infinite sample), through both stages with
// the owner partition's state, the ledger and the frontier on the real Redis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { latestFactsReader } from '../../../src/pipeline/latest-facts.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { RedisFrontier } from '../../../src/store/redis/frontier.js';
import { RedisPartitionState } from '../../../src/store/redis/partition-state.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { OnePartitionStages } from '../../support/one-partition-stages.js';
import { services, uniqueId } from '../../support/index.js';

const T0 = Date.parse('2026-06-01T15:00:00Z');
let offset = 0;
const raw = (type: string, time: number, data: string): RawMessage => ({
  value: Buffer.from(`{"specversion":"1.0","id":"h${offset}","source":"urn:t","type":"${type}","time":"${new Date(time).toISOString()}","data":${data}}`),
  origin: { topic: 'hostile', partition: 0, offset: offset++ },
});

describe('hostile values on the Redis store', () => {
  let store: RedisStore;
  let state: RedisPartitionState;
  let stages: OnePartitionStages;
  let sink: CollectingSink;
  const pipeline = { processBatch: (messages: RawMessage[], _source: string) => stages.step(messages, sink) };
  beforeAll(async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const redis = new Redis(services().redisUrl);
    store = new RedisStore(redis, uniqueId('hostile'));
    state = new RedisPartitionState(redis, store.keys);
    sink = new CollectingSink();
    stages = new OnePartitionStages(loaded.ruleSet, { clock: () => Number.MAX_SAFE_INTEGER, ports: { state, ledger: store, frontier: new RedisFrontier(redis, store.keys, 'ops') } });
  });
  afterAll(() => store.close());

  it('keeps a profile field named __t as a fact, and the next profile still applies', async () => {
    const a = await pipeline.processBatch([raw('customer.profile', T0, '{"customerId":"c1","valueTier":"gold","lifetimeValue":1,"__t":"x"}')], 'hostile:0');
    const b = await pipeline.processBatch([raw('customer.profile', T0 + 1000, '{"customerId":"c1","valueTier":"platinum","lifetimeValue":2,"__t":1e300}')], 'hostile:0');
    expect([a.counts.applied, b.counts.applied]).toEqual([1, 1]);
    const [facts] = await latestFactsReader(state, 'ops', () => 1).readFacts(['customerId=c1']);
    expect(facts).toMatchObject({ valueTier: 'platinum', __t: 1e300 });
    const c = await pipeline.processBatch([raw('customer.profile', T0 + 2000, '{"customerId":"c1","valueTier":"silver","lifetimeValue":3}')], 'hostile:0');
    expect(c.counts.applied).toBe(1);
  });

  it('dead-letters a lone surrogate in any string and goes on with the batch', async () => {
    const r = await pipeline.processBatch([
      raw('curbside.arrived', T0, '{"orderId":"o\\ud800","storeId":"S1","customerId":"c1","promisedWaitSeconds":60}'),
      raw('customer.profile', T0, '{"customerId":"c2","valueTier":"gold","lifetimeValue":1,"name":"\\udc00"}'),
      raw('customer.profile', T0, '{"customerId":"c3","valueTier":"gold","lifetimeValue":1}'),
    ], 'hostile:0');
    expect(r.deadLetters.map((d) => d.code)).toEqual(['CPW200', 'CPW200']);
    expect(r.counts.applied).toBe(1);
  });

  it('refuses an expected duration below a millisecond (it made the sample infinite)', async () => {
    const r = await pipeline.processBatch([
      raw('curbside.arrived', T0, '{"orderId":"tiny","storeId":"S2","customerId":"c1","promisedWaitSeconds":5e-324}'),
      raw('store.profile', T0, '{"storeId":"S3","timeZone":"UTC","promisedWaitSeconds":5e-324}'),
    ], 'hostile:0');
    expect(r.deadLetters.map((d) => d.code)).toEqual(['CPW203', 'CPW203']);
  });
});
