import { OnePartitionStages } from './tests/support/one-partition-stages.ts';
import { CollectingSink } from './src/pipeline/collecting-sink.ts';
import { exampleRules } from './tests/support/processor.ts';
import { curbsideScenario } from './src/samples/curbside-scenario.ts';
const NOW = Date.UTC(2026, 10, 23, 18, 30, 0); const START = NOW - 30 * 60_000;
const rules = await exampleRules(['rules']);
const s = curbsideScenario({ start: START, minutes: 12, arrivalsPerMinute: 6, enRoutePerStore: 8, idPrefix: 'fz' });
const base = s.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'events', partition: 0, offset: i } }));
for (const size of [base.length, 37]) {
  const sink = new CollectingSink(); const st = new OnePartitionStages(rules, { clock: () => NOW, maxBytes: 65536 });
  let late = 0;
  for (let i = 0; i < base.length; i += size) { const r = await st.step(base.slice(i, i + size), sink); late += r.counts.late; }
  console.log(size, 'offers', sink.offers.length, 'late', late, 'dl', sink.deadLetters.length);
}
