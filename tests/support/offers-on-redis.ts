// The pipeline check of the tests of a way to connect to Redis (an ACL user, TLS): the operations
// tests' curbside scenario (tests/integration/ops/scenario.ts), through the stages in process on a
// Redis connected by connectRedis with these settings, decides the offers of the in-memory store.
import { expect } from 'vitest';
import type { Settings } from '../../src/config/settings.js';
import { connectRedis } from '../../src/store/redis/connect.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { offersOnStore, opsScenario, uninterrupted } from '../integration/ops/scenario.js';
import { exampleRules } from './processor.js';

/** Runs it under the settings' REDIS_PREFIX, and closes the connection. */
export async function expectInMemoryOffersOn(settings: Settings): Promise<void> {
  const prefix = settings.REDIS_PREFIX;
  const ruleSet = await exampleRules();
  const scenario = opsScenario(prefix);
  const client = connectRedis(settings);
  const store = new RedisStore(client, prefix);
  try {
    const offers = await offersOnStore(client, prefix, ruleSet, scenario);
    expect(offers.length).toBeGreaterThan(5);
    expect(offers).toEqual((await uninterrupted(ruleSet, scenario)).offered.map((d) => d.offerId).sort());
  } finally {
    await store.close();
  }
}
