/**
 * Removes what is left of the processing state under one key prefix, for `cpiwatch rebuild`
 * (rebuild/rebuild.ts), which then re-seeds the ledger from the output topics and replays the
 * input. Keys (keys.ts):
 *
 *   removed  {p:<ops topic>:<n>}:epoch|offsets|entities|meta   every owner partition's state
 *            {f:<ops topic>}                                  the decision frontier
 *            {d}:offer:*  {d}:hist:*  {d}:budget:*             the offer ledger: replaced by what the
 *                                                             output topics say was published (a
 *                                                             decision marked published whose
 *                                                             transaction never committed must not stay)
 *            {d}:pub:*                                        publish journals: their offsets mean
 *                                                             nothing once the groups' offsets move, and
 *                                                             one carried over would publish again
 *   kept     {d}:email:*                                      e-mail delivery states: which offers were
 *                                                             e-mailed; the e-mail channel keeps its own
 *                                                             group's offsets, and these are what stops
 *                                                             it from e-mailing an offer twice
 *            anything else under {d}: (not cpiwatch's today)  counted, left alone
 *
 * The state marker is rebuild.ts's (state-marker.ts). Epochs start again from 0: safe only while no
 * processor runs, which rebuild.ts makes sure of (fencing compares epochs of live claims).
 * The ledger's keys are found by SCAN (on every master of a Redis Cluster; they share one slot).
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { isCluster } from './round-trip.js';

export interface ResetScope {
  opsTopic: string;
  /** Partitions of the ops topic (the owner partitions). */
  partitions: number;
}

export interface ResetCounts {
  /** Keys of owner partitions (epoch, offsets, entities, meta). */
  partitionKeys: number;
  frontier: number;
  offers: number;
  histories: number;
  budgets: number;
  journals: number;
  /** Kept: e-mail delivery states. */
  emails: number;
  /** Kept: other keys under the decisions base. */
  other: number;
}

const PARTITION_SUFFIXES = ['epoch', 'offsets', 'entities', 'meta'] as const;
const REMOVED: Record<string, keyof ResetCounts> = { offer: 'offers', hist: 'histories', budget: 'budgets', pub: 'journals' };

/** A SCAN MATCH pattern matching `literal` exactly, then anything. */
export function globPrefix(literal: string): string {
  return `${literal.replace(/([*?[\]\\])/g, '\\$1')}*`;
}

/** Which count a key under the decisions base goes to (`{d}:<kind>:...`), and whether it is removed. */
export function classifyDecisionKey(keys: RedisKeys, key: string): { count: keyof ResetCounts; remove: boolean } {
  const rest = key.slice(keys.decisions().length + 1);
  const kind = rest.slice(0, rest.indexOf(':'));
  if (kind === 'email') return { count: 'emails', remove: false };
  const count = REMOVED[kind];
  return count ? { count, remove: true } : { count: 'other', remove: false };
}

async function* scan(client: Redis | Cluster, match: string): AsyncGenerator<string[]> {
  const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) yield found;
    } while (cursor !== '0');
  }
}

/** Removes the state (dryRun: only counts what would go); returns what was (or would be) removed and kept. */
export async function resetState(client: Redis | Cluster, keys: RedisKeys, scope: ResetScope, dryRun = false): Promise<ResetCounts> {
  const counts: ResetCounts = { partitionKeys: 0, frontier: 0, offers: 0, histories: 0, budgets: 0, journals: 0, emails: 0, other: 0 };
  const drop = async (names: string[]): Promise<number> => {
    if (names.length === 0) return 0;
    // one slot per call: the names share a hash tag
    return dryRun ? client.exists(...names) : client.del(...names);
  };
  for (let p = 0; p < scope.partitions; p++) {
    const base = keys.partition(`${scope.opsTopic}:${p}`);
    counts.partitionKeys += await drop(PARTITION_SUFFIXES.map((s) => `${base}:${s}`));
  }
  counts.frontier = await drop([keys.frontier(scope.opsTopic)]);
  for await (const found of scan(client, globPrefix(`${keys.decisions()}:`))) {
    const remove: string[] = [];
    for (const key of found) {
      const c = classifyDecisionKey(keys, key);
      counts[c.count] += 1;
      if (c.remove) remove.push(key);
    }
    if (!dryRun && remove.length > 0) await client.del(...remove);
  }
  return counts;
}
