// The routing and owner stages alone on a dedicated redis-server, no Kafka (the ops records handed
// from one stage to the other in memory): CPU per event of Node and of Redis.
// For profiling the hot path: N=200000 npx tsx --cpu-prof bench/micro.ts ; STATS=1 adds Redis commandstats.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { CollectingSink } from '../src/pipeline/collecting-sink.js';
import { OwnerStage } from '../src/pipeline/owner-stage.js';
import { RouteStage } from '../src/pipeline/route-stage.js';
import { RedisFrontier } from '../src/store/redis/frontier.js';
import { RedisPartitionState } from '../src/store/redis/partition-state.js';
import { RedisStore } from '../src/store/redis/redis-store.js';
import { loadRuleSet } from '../src/rules/load.js';
import { curbsideScenario } from '../src/samples/curbside-scenario.js';
const N = Number(process.env.N ?? 200000);
const B = Number(process.env.B ?? 1500);
const port = 17999;
const proc = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const redis = new Redis(`redis://127.0.0.1:${port}`);
const rules = await loadRuleSet([new URL('../rules', import.meta.url).pathname]);
if (!rules.ok) throw new Error('rules');
const start = Date.now() - 60 * 60_000;
const stores = Math.round(N / 1000);
const sc = curbsideScenario({ start, seed: 7, idPrefix: 'mb', stores, busyStores: stores / 2, arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: 'Etc/UTC' });
// 6 partitions by key hash-ish
const parts: any[][] = [[], [], [], [], [], []];
for (const e of sc.events) { let h = 0; for (const c of e.key) h = (h * 31 + c.charCodeAt(0)) | 0; parts[Math.abs(h) % 6]!.push(e); }
const msgs = parts.map((p, pi) => p.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'ev', partition: pi, offset: i } })));
const store = new RedisStore(redis, 'mb');
const route = new RouteStage(rules.ruleSet, { partitions: 6, limits: { maxBytes: 1_048_576 }, clock: () => Date.now(), maxFutureMs: 300_000 });
const owner = new OwnerStage(rules.ruleSet, { topic: 'ops', partitions: 6, state: new RedisPartitionState(redis, store.keys), ledger: store, frontier: new RedisFrontier(redis, store.keys, 'ops') });
const sink = new CollectingSink();
const logs: Buffer[][] = [[], [], [], [], [], []];
const applied = [0, 0, 0, 0, 0, 0];
const routeSink = { publish: (d: Parameters<CollectingSink['publish']>[0]) => sink.publish(d), deadLetter: (l: Parameters<CollectingSink['deadLetter']>[0]) => sink.deadLetter(l), forward: async (records: { partition: number; value: Buffer }[]) => { for (const r of records) logs[r.partition]!.push(r.value); } };
let owners: Promise<void> = Promise.resolve();
const pipeline = {
  async processBatch(b: typeof msgs[number], source: string) {
    await route.processBatch(b, source, { sink: routeSink });
    // one owner batch per partition at a time, as the owners' consumer runs them
    await (owners = owners.then(drain));
  },
};
async function drain(): Promise<void> {
    for (let q = 0; q < 6; q++) {
      const from = applied[q]!;
      if (from >= logs[q]!.length) continue;
      applied[q] = logs[q]!.length;
      await owner.processBatch(logs[q]!.slice(from).map((value, i) => ({ value, origin: { topic: 'ops', partition: q, offset: from + i } })), `ops:${q}`, { sink });
    }
}
const c0 = cpu(proc.pid!); const n0 = process.cpuUsage(); const t0 = performance.now();
const pos = [0, 0, 0, 0, 0, 0];
let done = 0; let prep = 0;
// 2 partitions concurrently
async function worker(ids: number[]) { for (;;) { let any = false; for (const p of ids) { if (pos[p]! < msgs[p]!.length) { any = true; const b = msgs[p]!.slice(pos[p], pos[p]! + B); pos[p]! += b.length; await pipeline.processBatch(b, `ev:${p}`); done += b.length; } } if (!any) return; } }
await Promise.all([worker([0, 2, 4]), worker([1, 3, 5])]);
const t = (performance.now() - t0) / 1000; const rc = cpu(proc.pid!) - c0; const nu = process.cpuUsage(n0);
console.log(`${done} events in ${t.toFixed(2)} s = ${Math.round(done / t)}/s; node ${((nu.user + nu.system) / 1e6).toFixed(2)} s (${((nu.user + nu.system) / done).toFixed(1)} us/ev), redis ${rc.toFixed(2)} s (${(rc * 1e6 / done).toFixed(1)} us/ev)`);
if (process.env.STATS) console.log((await redis.info('commandstats')).split('\n').filter((l) => l.startsWith('cmdstat')).map((l) => l.replace(/,rejected.*$/, '')).join('\n'));
redis.disconnect(); proc.kill();
