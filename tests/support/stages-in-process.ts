// The two stages of `run` (routing, owner partitions) on a real Redis but without Kafka: each input
// partition's batches are routed, their records appended to an in-memory ops log per owner partition,
// and the owners process their logs round by round. At the end every source sends idle marks far
// ahead (as a long idle spell would), so every window closes and every candidate is decided, as
// at the end of a backtest.
import type { Cluster, Redis } from 'ioredis';
import type { Decision } from '../../src/actions/decision.js';
import { OwnerStage } from '../../src/pipeline/owner-stage.js';
import { RouteStage, type ForwardedRecord, type RouteSink } from '../../src/pipeline/route-stage.js';
import type { DeadLetter, RawMessage } from '../../src/pipeline/types.js';
import type { RuleSet } from '../../src/rules/compiled.js';
import { RedisFrontier } from '../../src/store/redis/frontier.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { RedisPartitionState } from '../../src/store/redis/partition-state.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';

export async function runStagesInProcess(o: {
  redis: Redis | Cluster; prefix: string; ruleSet: RuleSet; messages: readonly RawMessage[];
  partitions?: number; batchSize?: number; sourceOf?: (m: RawMessage, i: number) => number;
  /** Rounds of idle marks at the end (default: until nothing more is decided); 0: none. */
  finalMarkRounds?: number;
}): Promise<Decision[]> {
  const n = o.partitions ?? 3;
  const keys = new RedisKeys(o.prefix);
  const store = new RedisStore(o.redis, o.prefix);
  const opsTopic = `ops-${Math.random().toString(36).slice(2)}`;
  const route = new RouteStage(o.ruleSet, { partitions: n, limits: { maxBytes: 1_048_576 }, clock: () => Number.POSITIVE_INFINITY, maxFutureMs: 0 });
  const owner = new OwnerStage(o.ruleSet, { topic: opsTopic, partitions: n, state: new RedisPartitionState(o.redis, keys), ledger: store, frontier: new RedisFrontier(o.redis, keys, opsTopic) });
  const logs: Buffer[][] = Array.from({ length: n }, () => []);
  const done = Array.from({ length: n }, () => 0);
  const decisions: Decision[] = [];
  const forward = (records: ForwardedRecord[]) => { for (const r of records) logs[r.partition]!.push(r.value); };
  const sink: RouteSink = {
    publish: async (ds: Decision[]) => { decisions.push(...ds); },
    deadLetter: async (_l: DeadLetter[]) => undefined,
    forward: async (records) => forward(records),
  };
  const drain = async () => {
    for (let p = 0; p < n; p++) {
      const log = logs[p]!;
      if (done[p]! >= log.length) continue;
      const messages = log.slice(done[p]).map((value, i) => ({ value: Buffer.from(value), origin: { topic: opsTopic, partition: p, offset: done[p]! + i } }));
      done[p] = log.length;
      await owner.processBatch(messages, `${opsTopic}:${p}`, { sink });
    }
  };
  const perSource: RawMessage[][] = Array.from({ length: n }, () => []);
  o.messages.forEach((m, i) => perSource[o.sourceOf?.(m, i) ?? i % n]!.push({ ...m, origin: { ...m.origin, partition: o.sourceOf?.(m, i) ?? i % n } }));
  const size = o.batchSize ?? 100;
  for (let i = 0; perSource.some((l) => i < l.length); i += size) {
    for (let s = 0; s < n; s++) {
      const batch = perSource[s]!.slice(i, i + size);
      if (batch.length > 0) await route.processBatch(batch, `events:${s}`, { sink });
    }
    await drain();
  }
  for (let round = 0, quiet = 0; quiet < 3 && round < (o.finalMarkRounds ?? 50); round++) {
    const before = decisions.length;
    for (let s = 0; s < n; s++) forward(route.idle(s, round === 0 ? 1e13 : 0));
    await drain();
    quiet = decisions.length === before ? quiet + 1 : 0;
  }
  return decisions;
}
