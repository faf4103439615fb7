/**
 * The hot path of `run` in one process, no Kafka, no Redis: the bench's curbside scenario keyed by
 * store on 6 input partitions, in batches of B per partition (round robin, as a fetch hands them
 * out), each batch routed (decode -> ops -> OpRecords per owner, encoded as the ops topic's values),
 * then each owner's values decoded and applied by its PartitionTask, its decidable candidates taken
 * and its write encoded (the entity parts and the meta that would go to Redis). Prints CPU per event
 * (us, user + system of the process over the measured loop) and events/s; the scenario is built
 * and encoded before the clock starts.
 *
 * Runs the built tree (`dist/`) of TREE (default: this checkout), so two checkouts compare A/B with
 * the same bench:
 *   npx tsc -p tsconfig.build.json && N=200000 npx tsx bench/hot-path-micro.ts
 *   TREE=/tmp/other-checkout N=200000 npx tsx bench/hot-path-micro.ts
 *   N=200000 node --cpu-prof --import tsx bench/hot-path-micro.ts      # a V8 profile of it
 * ROUNDS > 1 repeats the whole input on fresh tasks (the first round includes the JIT's warm-up).
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const TREE = process.env.TREE ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.N ?? 200_000);
const B = Number(process.env.B ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const P = 6;

const dist = (m: string) => import(path.join(TREE, 'dist', m));
const { loadRuleSet } = await dist('rules/load.js');
const { curbsideScenario } = await dist('samples/curbside-scenario.js');
const { SourceRouter } = await dist('pipeline/route.js');
const { buildRouting } = await dist('cpis/routing.js');
const { taskRulesOf } = await dist('pipeline/task-rules.js');
const { PartitionTask } = await dist('pipeline/partition-task.js');
const { encodeOpRecords, decodeOpRecord } = await dist('pipeline/op-records.js');
const { ownerOf } = await dist('pipeline/owner-of.js');

const loaded = await loadRuleSet([path.join(TREE, 'rules')]);
if (!loaded.ok) throw new Error('rules do not load');
const routing = buildRouting(loaded.ruleSet);
const rules = taskRulesOf(loaded.ruleSet, routing);
const start = Date.now() - 3_600_000;
const stores = Math.max(2, Math.round(N / 1000));
const sc = curbsideScenario({ start, seed: 7, idPrefix: 'hp', stores, busyStores: Math.ceil(stores / 2), arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: 'Etc/UTC' });
const events = sc.events.slice(0, N) as { key: string; event: unknown }[];
const headers = { 'content-type': Buffer.from('application/cloudevents+json; charset=UTF-8') };
interface Msg { value: Buffer; key: Buffer; headers: typeof headers; origin: { topic: string; partition: number; offset: number } }
const byPartition: Msg[][] = Array.from({ length: P }, () => []);
for (const e of events) {
  const p = ownerOf(e.key, P);
  byPartition[p]!.push({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), headers, origin: { topic: 'events', partition: p, offset: byPartition[p]!.length } });
}

let checksum = 0;
function round(): number {
  const routers = Array.from({ length: P }, (_, p) => new SourceRouter(p, P));
  const tasks = Array.from({ length: P }, (_, p) => new PartitionTask(p, P));
  const opsOffsets = new Array<number>(P).fill(0);
  const now = Date.now();
  let deadLetters = 0;
  for (let at = 0; ; at += B) {
    const inbox: { offset: number; record: unknown }[][] = Array.from({ length: P }, () => []);
    let any = false;
    for (let p = 0; p < P; p++) {
      const batch = byPartition[p]!.slice(at, at + B);
      if (batch.length === 0) continue;
      any = true;
      const out = routers[p]!.route(batch, routing, { limits: { maxBytes: 1 << 20 }, now, maxFutureMs: 300_000 });
      deadLetters += out.deadLetters.length;
      for (const [owner, r] of out.records as Map<number, unknown>) {
        for (const value of encodeOpRecords(r, 512 * 1024) as Buffer[]) inbox[owner]!.push({ offset: opsOffsets[owner]!++, record: value });
      }
    }
    if (!any) break;
    for (let q = 0; q < P; q++) {
      if (inbox[q]!.length === 0) continue;
      const records = inbox[q]!.map(({ offset, record }) => ({ offset, record: decodeOpRecord(record) }));
      const outcome = tasks[q]!.process(rules, records);
      checksum += outcome.counts.applied + tasks[q]!.takeDecidable().length;
      const write = tasks[q]!.takeWrite();
      checksum += write.fields.size + JSON.stringify(write.meta).length;
    }
  }
  return deadLetters;
}

const results: { cpuUs: number; rate: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const dl = round();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  if (dl !== 0) throw new Error(`${dl} events dead-lettered`);
  results.push({ cpuUs: (c.user + c.system) / events.length, rate: events.length / wall });
}
for (const [r, x] of results.entries()) console.log(`round ${r + 1}: ${x.cpuUs.toFixed(2)} us CPU/event, ${Math.round(x.rate)} events/s (${events.length} events, B=${B}, tree ${TREE})`);
console.log(`checksum ${checksum}`);
