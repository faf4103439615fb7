/** Opens the Redis client from settings: standalone (REDIS_URL) or cluster (REDIS_CLUSTER_NODES), TLS and ACL user aware. */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Settings } from '../../config/settings.js';

export type RedisSettings = Pick<Settings, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_TLS_CA_FILE'> & Partial<Pick<Settings, 'REDIS_PASSWORD'>>;

export function connectRedis(s: RedisSettings): Redis | Cluster {
  const url = new URL(s.REDIS_URL);
  const tls = url.protocol === 'rediss:' ? { ...(s.REDIS_TLS_CA_FILE ? { ca: readFileSync(s.REDIS_TLS_CA_FILE, 'utf8') } : {}) } : undefined;
  const common: RedisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(s.REDIS_PASSWORD ? { password: s.REDIS_PASSWORD } : url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(tls ? { tls } : {}),
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 7), 5000),
  };
  if (s.REDIS_CLUSTER_NODES.length > 0) {
    return new Cluster(
      s.REDIS_CLUSTER_NODES.map((n) => {
        const [host, port] = n.split(':');
        return { host: host!, port: Number(port) };
      }),
      { redisOptions: common, clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 7), 5000), enableReadyCheck: true },
    );
  }
  // credentials come from `common` (ioredis would let the URL's win over REDIS_PASSWORD)
  const bare = new URL(s.REDIS_URL);
  bare.username = '';
  bare.password = '';
  return new Redis(bare.toString(), common);
}
