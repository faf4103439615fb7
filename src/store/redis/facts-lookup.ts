/**
 * A customer's facts now, found in whichever owner partition of this prefix holds them, without
 * knowing the ops topic or its partition count (`cpiwatch explain` against a running system, run
 * with only the Redis settings). Scans the partitions' entity hashes: a few keys, one HMGET each.
 */
import type { Cluster, Redis } from 'ioredis';
import { Facts } from '../../entities/facts.js';
import type { FactsReader } from '../../pipeline/latest-facts.js';
import type { RedisKeys } from './keys.js';

export function factsInAnyPartition(client: Redis | Cluster, keys: RedisKeys): FactsReader {
  return {
    async readFacts(tags) {
      const out: (ReturnType<Facts['latest']>)[] = tags.map(() => null);
      if (tags.length === 0) return out;
      const nodes = 'nodes' in client && typeof client.nodes === 'function' ? (client as Cluster).nodes('master') : [client as Redis];
      const hashes = new Set<string>();
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', keys.partitionEntitiesPattern(), 'COUNT', 1000);
          for (const k of found) hashes.add(k);
          cursor = next;
        } while (cursor !== '0');
      }
      for (const hash of hashes) {
        const values = await client.hmget(hash, ...tags.map((t) => `${t}|f`));
        values.forEach((v, i) => {
          if (v && out[i] === null) out[i] = Facts.decode(v).latest();
        });
      }
      return out;
    },
  };
}
