/**
 * Microbenchmark of the ops records (the repartition hop's wire format): routes the benchmark's
 * curbside scenario (BENCH_EVENTS, default 60,000) in batches of 1,000 per input partition, then
 * times encoding and decoding every owner record, and prints the bytes per event.
 * `npx tsx bench/op-records-micro.ts`
 */
import { loadRuleSet } from '../src/rules/load.js';
import { curbsideScenario } from '../src/samples/curbside-scenario.js';
import { SourceRouter } from '../src/pipeline/route.js';
import { buildRouting } from '../src/cpis/routing.js';
import { decodeOpRecord, encodeOpRecords, type OpRecord } from '../src/pipeline/op-records.js';
import { ownerOf } from '../src/pipeline/owner-of.js';
import type { RawMessage } from '../src/pipeline/types.js';

const N = Number(process.env.BENCH_EVENTS ?? 60_000);
const P = 6;
const loaded = await loadRuleSet(['rules']);
if (!loaded.ok) throw new Error('rules do not load');
const routing = buildRouting(loaded.ruleSet);
const start = Date.now() - 3_600_000;
const stores = Math.max(2, Math.round(N / 1000));
const sc = curbsideScenario({ start, seed: 7, idPrefix: 'm', stores, busyStores: Math.ceil(stores / 2), arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: 'Etc/UTC' });
const byPartition: RawMessage[][] = Array.from({ length: P }, () => []);
for (const e of sc.events) {
  const p = ownerOf(`k=${e.key}`, P);
  byPartition[p]!.push({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 't', partition: p, offset: byPartition[p]!.length } });
}
const records: OpRecord[] = [];
for (let p = 0; p < P; p++) {
  const router = new SourceRouter(p, P);
  const ms = byPartition[p]!;
  for (let i = 0; i < ms.length; i += 1000) {
    const out = router.route(ms.slice(i, i + 1000), routing, { limits: { maxBytes: 1 << 20 }, now: Date.now(), maxFutureMs: 300_000 });
    records.push(...out.records.values());
  }
}
const time = (label: string, f: () => void, rounds = 5) => {
  const ts: number[] = [];
  for (let r = 0; r < rounds; r++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b);
  console.log(`${label}: ${ts[0]!.toFixed(1)} ms min, ${ts[rounds >> 1]!.toFixed(1)} ms median (${((ts[rounds >> 1]! * 1000) / sc.events.length).toFixed(2)} us/event)`);
};
let values: (string | Buffer)[] = [];
time('encode', () => { values = records.flatMap((r) => encodeOpRecords(r, 512 * 1024)); });
const bytes = values.reduce((n, v) => n + Buffer.byteLength(v), 0);
console.log(`${records.length} records, ${values.length} values, ${(bytes / sc.events.length).toFixed(0)} bytes/event`);
const buffers = values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
time('decode', () => { for (const b of buffers) decodeOpRecord(b); });
