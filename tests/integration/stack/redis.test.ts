// The real Redis: plain reads and writes, a sorted-set sliding window, and EVAL of a Lua script.
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, redisClient, uniqueNames } from '../../support/index.js';

const redis = redisClient();
const names = uniqueNames('redis');
afterAll(async () => {
  await deleteKeys(redis, names.keyPrefix);
  await redis.quit();
});

// Adds one sample to a per-store sliding window (score = time) and returns how many samples
// are inside the window and the largest wait among them, atomically.
const SLIDING_WINDOW = `
local key, now, window, member, wait = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
redis.call('ZADD', key, now, member .. ':' .. wait)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
redis.call('PEXPIRE', key, window * 2)
local max = 0
for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
  local w = tonumber(string.match(m, ':(%d+)$'))
  if w > max then max = w end
end
return { redis.call('ZCARD', key), max }
`;

describe('Redis (real server)', () => {
  it('answers PING and reads back what it stored', async () => {
    expect(await redis.ping()).toBe('PONG');
    const key = `${names.keyPrefix}greeting`;
    await redis.set(key, 'hola', 'PX', 60_000);
    expect(await redis.get(key)).toBe('hola');
    await redis.hset(`${names.keyPrefix}customer:42`, { tier: 'gold', ltv: '1234.5' });
    expect(await redis.hgetall(`${names.keyPrefix}customer:42`)).toEqual({ tier: 'gold', ltv: '1234.5' });
    expect(await redis.incrby(`${names.keyPrefix}counter`, 5)).toBe(5);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it('runs a Lua sliding window with EVAL and EVALSHA', async () => {
    const key = `${names.keyPrefix}window:store-7`;
    const windowMs = 15 * 60_000;
    const t0 = 1_700_000_000_000;
    expect(await redis.eval(SLIDING_WINDOW, 1, key, t0, windowMs, 'c1', 120)).toEqual([1, 120]);
    expect(await redis.eval(SLIDING_WINDOW, 1, key, t0 + 60_000, windowMs, 'c2', 480)).toEqual([2, 480]);
    // 20 minutes later the first two samples have left the window
    const sha = (await redis.script('LOAD', SLIDING_WINDOW)) as string;
    expect(await redis.evalsha(sha, 1, key, t0 + 20 * 60_000, windowMs, 'c3', 60)).toEqual([1, 60]);
    expect(await redis.zcard(key)).toBe(1);
  });

  it('sees writes from another connection (keys are isolated per test by prefix)', async () => {
    const other = redisClient();
    try {
      await other.set(`${names.keyPrefix}shared`, '1');
      expect(await redis.get(`${names.keyPrefix}shared`)).toBe('1');
    } finally {
      await other.quit();
    }
  });
});
