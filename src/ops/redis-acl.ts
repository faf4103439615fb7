/**
 * The least-privilege Redis ACL of a cpiwatch user: the commands cpiwatch sends (directly, through
 * ioredis, and from inside its Lua scripts, which Redis checks against the same ACL) and only the
 * keys of its prefix. docs/operations.md shows the rule; tests/integration/ops/redis-acl.test.ts runs
 * the state-store contract and a pipeline as such a user and checks that anything else is denied.
 */
export const REDIS_ACL_COMMANDS = [
  // connection and health: AUTH is always allowed; INFO is ioredis's ready check
  'ping', 'info', 'quit', 'select',
  // the Lua scripts (src/store/redis/lua), run by EVALSHA with EVAL as the fallback after a restart
  'evalsha', 'eval',
  // called inside the scripts
  'get', 'set', 'incr', 'del', 'pexpire', 'pttl', 'lrange', 'rpush',
  'hget', 'hmget', 'hgetall', 'hset', 'hdel', 'hincrby', 'hincrbyfloat',
  'zadd', 'zcount', 'zrangebyscore', 'zrem', 'zremrangebyscore', 'zscore',
  // loading an owner partition's state in chunks (store/redis/partition-state.ts)
  'hscan',
  // the state marker (store/redis/state-marker.ts)
  'exists',
  // cpiwatch rebuild: finding the offer ledger's keys to remove (store/redis/state-reset.ts)
  'scan',
  // Redis Cluster topology (ioredis Cluster)
  'cluster|slots', 'cluster|shards', 'cluster|info', 'readonly',
] as const;

/** Arguments of `ACL SETUSER` for a cpiwatch user on one key prefix (REDIS_PREFIX). */
export function aclSetUserArgs(user: string, password: string, prefix = 'cpiwatch'): string[] {
  return [user, 'reset', 'on', `>${password}`, `~{${prefix}:*`, 'resetchannels', '-@all', ...REDIS_ACL_COMMANDS.map((c) => `+${c}`)];
}

/** The same as one line of an ACL file (users.acl) or of `ACL SETUSER`. */
export function aclRule(user = 'cpiwatch', password = '<password>', prefix = 'cpiwatch'): string {
  return ['user', user, ...aclSetUserArgs(user, password, prefix).slice(2)].join(' ');
}
