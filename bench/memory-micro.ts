/**
 * What the owner partitions hold in memory after the benchmark's scenario (no Kafka: bench/micro.ts's
 * in-process stages on a dedicated redis-server), attributed by dropping one kind of state at a time
 * and measuring the heap after a full GC. `N=1000000 node --expose-gc --import tsx bench/memory-micro.ts`
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { CollectingSink } from '../src/pipeline/collecting-sink.js';
import { OwnerStage } from '../src/pipeline/owner-stage.js';
import { RouteStage, type ForwardedRecord } from '../src/pipeline/route-stage.js';
import { ownerOf } from '../src/pipeline/owner-of.js';
import { RedisFrontier } from '../src/store/redis/frontier.js';
import { RedisPartitionState } from '../src/store/redis/partition-state.js';
import { RedisStore } from '../src/store/redis/redis-store.js';
import { loadRuleSet } from '../src/rules/load.js';
import { curbsideScenario } from '../src/samples/curbside-scenario.js';
import type { EntityState } from '../src/entities/entity-state.js';
import type { PartitionTask } from '../src/pipeline/partition-task.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const N = Number(process.env.N ?? 300_000);
const P = 6;
const port = 17998;
const proc = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const redis = new Redis(`redis://127.0.0.1:${port}`);
const loaded = await loadRuleSet([new URL('../rules', import.meta.url).pathname]);
if (!loaded.ok) throw new Error('rules');
const stores = Math.round(N / 1000);
const sc = curbsideScenario({ start: Date.now() - 3_600_000, seed: 7, idPrefix: 'mm', stores, busyStores: stores / 2, arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: 'Etc/UTC' });
const input: { value: Buffer; origin: { topic: string; partition: number; offset: number } }[][] = Array.from({ length: P }, () => []);
for (const e of sc.events) { const p = ownerOf(`k=${e.key}`, P); input[p]!.push({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'ev', partition: p, offset: input[p]!.length } }); }
const store = new RedisStore(redis, 'mm');
const route = new RouteStage(loaded.ruleSet, { partitions: P, limits: { maxBytes: 1 << 20 }, clock: () => Date.now(), maxFutureMs: 300_000 });
const owner = new OwnerStage(loaded.ruleSet, { topic: 'ops', partitions: P, state: new RedisPartitionState(redis, store.keys), ledger: store, frontier: new RedisFrontier(redis, store.keys, 'ops') });
owner.assigned(Array.from({ length: P }, (_, p) => p));
const sink = new CollectingSink();
const logs: Buffer[][] = Array.from({ length: P }, () => []);
const routeSink = { publish: sink.publish.bind(sink), deadLetter: sink.deadLetter.bind(sink), forward: async (records: ForwardedRecord[]) => { for (const r of records) logs[r.partition]!.push(r.value); } };
const applied = Array.from({ length: P }, () => 0);
for (let from = 0; ; from += 1000) {
  let any = false;
  for (let p = 0; p < P; p++) {
    const batch = input[p]!.slice(from, from + 1000);
    if (batch.length === 0) continue;
    any = true;
    await route.processBatch(batch, `ev:${p}`, { sink: routeSink });
  }
  for (let q = 0; q < P; q++) {
    const records = logs[q]!.slice(applied[q]).map((value, i) => ({ value, origin: { topic: 'ops', partition: q, offset: applied[q]! + i } }));
    applied[q] = logs[q]!.length;
    if (records.length > 0) await owner.processBatch(records, `ops:${q}`, { sink });
  }
  if (!any) break;
}
logs.forEach((l) => l.splice(0));
input.forEach((l) => l.splice(0));
sc.events.splice(0);
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
const tasks = [...(owner as unknown as { owned: Map<number, { task: PartitionTask }> }).owned.values()].map((o) => o.task);
const entities = tasks.flatMap((t) => [...t.entities.values()]);
const kinds = new Map<string, number>();
for (const e of entities) kinds.set(e.tag.slice(0, e.tag.indexOf('=')), (kinds.get(e.tag.slice(0, e.tag.indexOf('='))) ?? 0) + 1);
let before = heap();
console.log(`${N} events: heap ${mb(before)} after GC; entities ${entities.length} (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`);
const drop = (what: string, f: (e: EntityState) => void) => {
  for (const e of entities) f(e);
  const now = heap();
  console.log(`  ${what.padEnd(44)} ${mb(before - now).padStart(9)}  (${((before - now) / entities.length).toFixed(0)} bytes per entity)`);
  before = now;
};
const s = (e: EntityState) => e as unknown as Record<string, unknown>;
drop('window keys of duplicates (per step)', (e) => { for (const w of e.windowsRead.values()) (w as unknown as { forgetKeysBefore(b: number): void }).forgetKeysBefore(Number.POSITIVE_INFINITY); });
drop('windows (buckets, sketches)', (e) => { s(e)._windows = undefined; });
drop('pending halves of durations', (e) => { s(e)._joins = undefined; });
drop('contributors', (e) => { s(e)._contributors = undefined; });
drop('customers en route', (e) => { e.enRoute = []; });
drop('rule states, episodes, closes, deferred', (e) => { s(e)._rules = undefined; s(e)._episodes = undefined; s(e)._closed = undefined; e.deferred = []; });
drop('facts', (e) => { s(e).facts = null; });
for (const t of tasks) t.entities.clear();
const count = entities.length;
entities.splice(0);
const rest = heap();
console.log(`  ${'the entities themselves and their map'.padEnd(44)} ${mb(before - rest).padStart(9)}  (${((before - rest) / count).toFixed(0)} bytes per entity)`);
console.log(`  ${'what is left (code, rules, timers, queues)'.padEnd(44)} ${mb(rest).padStart(9)}`);
redis.disconnect();
proc.kill();
process.exit(0);
