// Redis helpers for integration tests, on the real Redis from services().
import { Redis } from 'ioredis';
import { services } from './services.js';

/** A connected ioredis client on the test Redis. Call quit() (or use withRedis). */
export function redisClient(): Redis {
  return new Redis(services().redisUrl, { maxRetriesPerRequest: 3, enableOfflineQueue: true });
}

/** Run fn with a fresh client; the client is closed afterwards. */
export async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = redisClient();
  try {
    return await fn(redis);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Delete every key under a prefix (SCAN, never KEYS). Returns how many were deleted. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/([*?[\]\\])/g, '\\$1')}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
