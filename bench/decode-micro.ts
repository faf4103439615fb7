// The decoder alone, no Kafka, no Redis: events/s of decodeEvent on the events of the curbside
// scenario (built-in types), and, when the rule set at hand can declare types (BENCH_DECLARED=1, a
// branch with event types as data), on events of a declared type of the same size and fields.
// BENCH_DECODE_A=<another tree>/src/events/decode.ts adds that tree's decoder on the same built-in
// events, in the same process (an A/B without the noise between processes). ROUNDS alternating
// rounds of N messages each; the median and the best.
//   N=200000 ROUNDS=12 BENCH_DECODE_A=/tmp/main-tree/src/events/decode.ts npx tsx bench/decode-micro.ts
import { decodeEvent } from '../src/events/decode.js';
import { curbsideScenario } from '../src/samples/curbside-scenario.js';

const N = Number(process.env.N ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const sc = curbsideScenario({ start: Date.now() - 3_600_000, seed: 7, idPrefix: 'dm', stores: Math.max(1, Math.round(N / 1000)), busyStores: Math.max(1, Math.round(N / 2000)), arrivalsPerMinute: 16, minutes: 20, enRoutePerStore: 20, timeZone: 'Etc/UTC' });
const builtin = sc.events.slice(0, N).map((e) => ({ value: Buffer.from(JSON.stringify(e.event)) }));
const limits = { maxBytes: 1_048_576 };

type Decode = (m: { value: Buffer }) => boolean;
const sets: { name: string; messages: { value: Buffer }[]; decode: Decode }[] = [{ name: 'built-in types', messages: builtin, decode: (m) => decodeEvent(m, limits).ok }];

if (process.env.BENCH_DECODE_A) {
  const other = (await import(process.env.BENCH_DECODE_A)) as { decodeEvent: (m: { value: Buffer }, l: typeof limits) => { ok: boolean } };
  sets.unshift({ name: `built-in types, decoder of ${process.env.BENCH_DECODE_A}`, messages: builtin, decode: (m) => other.decodeEvent(m, limits).ok });
}

if (process.env.BENCH_DECLARED === '1') {
  // the declared twin of curbside.arrived: same fields and constraints, another type name
  const { compileRuleSources } = await import('../src/rules/load.js');
  const r = compileRuleSources([{ file: 'pickup.yaml', text: `eventTypes:
  - type: pickup.checked-in
    fields:
      orderId: { type: id }
      storeId: { type: id }
      customerId: { type: id, role: customer }
      promisedWaitSeconds: { type: number, min: 0.001, optional: true }
` }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const types = r.ruleSet.eventTypes!;
  const declared = builtin.map((m) => {
    const e = JSON.parse(m.value.toString()) as { type: string };
    return { value: Buffer.from(JSON.stringify({ ...e, type: e.type === 'curbside.arrived' ? 'pickup.checked-in' : e.type })) };
  });
  sets.push({ name: 'declared type (curbside.arrived renamed pickup.checked-in)', messages: declared, decode: (m) => decodeEvent(m, limits, types as never).ok });
}

const rates = new Map<string, number[]>(sets.map((s) => [s.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const s of round % 2 === 0 ? sets : [...sets].reverse()) {
    let ok = 0;
    const t0 = process.hrtime.bigint();
    for (const m of s.messages) if (s.decode(m)) ok++;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (ok !== s.messages.length) throw new Error(`${s.name}: ${s.messages.length - ok} events did not decode`);
    rates.get(s.name)!.push(s.messages.length / seconds);
  }
}
for (const [name, r] of rates) {
  const sorted = [...r].sort((a, b) => a - b);
  console.log(`${name}: ${N} events x ${ROUNDS} rounds: median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} events/s, best ${Math.round(sorted[sorted.length - 1]!)} events/s`);
}
