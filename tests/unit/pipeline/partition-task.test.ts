// The owner partition on stream time: a store that goes quiet still has its rule fire, hold and
// clear on time (its timers run on the partition's time, which other traffic or idle marks move),
// no offer is made on an empty window, and a partition restored from its persisted state goes on
// exactly as the one that never stopped.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/actions/decision.js';
import { buildRouting } from '../../../src/cpis/routing.js';
import { decideCandidates, type FactsPort } from '../../../src/pipeline/decide-candidates.js';
import { LocalEngine } from '../../../src/pipeline/local-engine.js';
import { PartitionTask, type PersistedMeta } from '../../../src/pipeline/partition-task.js';
import { SourceRouter } from '../../../src/pipeline/route.js';
import { taskRulesOf } from '../../../src/pipeline/task-rules.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';

const T0 = Date.parse('2026-06-01T15:00:00Z'); // 10:00 in Chicago: outside quiet hours
const MIN = 60_000;
let seq = 0;
const msg = (type: string, time: number, data: Record<string, unknown>): RawMessage => ({
  value: Buffer.from(JSON.stringify({ specversion: '1.0', id: `e${++seq}`, source: 'urn:test', type, time: new Date(time).toISOString(), data })),
  origin: { topic: 't', partition: 0, offset: seq },
});

/** Store S: 10 orders handed over 2x the promised wait, a minute apart from `from`. */
function slowOrders(store: string, from: number, n = 10): RawMessage[] {
  const out: RawMessage[] = [];
  for (let i = 0; i < n; i++) {
    const t = from + i * 20_000;
    out.push(msg('curbside.arrived', t, { orderId: `${store}-o${i}`, storeId: store, customerId: `${store}-c${i}`, promisedWaitSeconds: 60 }));
    out.push(msg('curbside.handed-over', t + 120_000, { orderId: `${store}-o${i}`, storeId: store, customerId: `${store}-c${i}` }));
  }
  return out.sort((a, b) => JSON.parse(String(a.value)).time.localeCompare(JSON.parse(String(b.value)).time));
}

const fireOf = (evals: { transition?: string; ruleId: string; scopeTag: string; at: number }[], transition: string, tag: string) =>
  evals.filter((e) => e.transition === transition && e.scopeTag === tag && e.ruleId === 'curbside-flash-drink').map((e) => e.at);

describe('an owner partition on stream time', () => {
  let ruleSet: RuleSet;
  beforeAll(async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
  });

  it('fires, then clears once its window is empty, for a store that sends nothing more while another store carries on', async () => {
    const engine = new LocalEngine(ruleSet, new MemoryStore());
    const evals: { transition?: string; ruleId: string; scopeTag: string; at: number }[] = [];
    const decisions: Decision[] = [];
    const step = async (ms: RawMessage[]) => { const s = await engine.process(ms); expect(s.deadLetters).toEqual([]); evals.push(...s.task.evaluations); decisions.push(...s.decisions); };
    await step([msg('customer.profile', T0, { customerId: 'gold-1', valueTier: 'gold', lifetimeValue: 1800 }), msg('store.profile', T0, { storeId: 'Q', timeZone: 'America/Chicago' })]);
    await step(slowOrders('Q', T0 + MIN));
    // store Q is silent from here on; store B's ordinary traffic moves stream time for 40 minutes
    for (let m = 6; m < 46; m++) await step([msg('curbside.arrived', T0 + m * MIN, { orderId: `b${m}`, storeId: 'B', customerId: `b${m}`, promisedWaitSeconds: 300 })]);
    const fired = fireOf(evals, 'fire', 'storeId=Q');
    expect(fired).toHaveLength(1);
    // hand-overs from T0 + 3m, the fifth (minSamples) at 4m20s: breaching at the 5m boundary, for 2m: fires at 7m
    expect(fired[0]).toBe(T0 + 7 * MIN);
    // the 15-minute window ends holding too few samples: the episode ends, no later offer on it
    const cleared = fireOf(evals, 'clear', 'storeId=Q');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toBeGreaterThan(fired[0]!);
    expect(cleared[0]).toBeLessThanOrEqual(T0 + 6 * MIN + 15 * MIN + MIN);
    await step([msg('customer.en-route', cleared[0]! + 5 * MIN, { customerId: 'gold-1', storeId: 'Q', etaSeconds: 600 })]);
    const finished = await engine.finish();
    decisions.push(...finished.decisions);
    expect(decisions.filter((d) => d.customerId === 'gold-1')).toEqual([]);
  });

  it('fires on time when the only other source is idle and advances with the wall clock', () => {
    const routing = buildRouting(ruleSet);
    const rules = taskRulesOf(ruleSet, routing);
    const busy = new SourceRouter(0, 1);
    const quiet = new SourceRouter(1, 1);
    const task = new PartitionTask(0, 2);
    const opts = { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 };
    let offset = 0;
    const evals: { transition?: string; ruleId: string; scopeTag: string; at: number }[] = [];
    const feed = (records: (ReturnType<SourceRouter['idle']>[number] | undefined)[]) => {
      for (const record of records) if (record) evals.push(...task.process(rules, [{ offset: offset++, record }]).evaluations);
    };
    feed([busy.route(slowOrders('Q', T0 + MIN), routing, opts).records.get(0)]);
    // source 1 never had an event: until it reports, stream time waits for it
    expect(task.now).toBeNull();
    feed(quiet.idle(0));
    expect(task.now).toBe(T0 + MIN + 9 * 20_000 + 120_000);
    // then source 0 goes idle too, and both advance with the wall clock, a second at a time
    for (let s = 0; s < 5 * 60; s++) feed([...busy.idle(1000), ...quiet.idle(1000)]);
    expect(fireOf(evals, 'fire', 'storeId=Q')).toEqual([T0 + 7 * MIN]);
  });

  it('goes on after a restore from its persisted state exactly as without one', async () => {
    const messages = [
      msg('customer.profile', T0, { customerId: 'gold-1', valueTier: 'gold', lifetimeValue: 1800 }),
      msg('customer.profile', T0, { customerId: 'gold-2', valueTier: 'platinum', lifetimeValue: 5200 }),
      msg('customer.en-route', T0 + 2 * MIN, { customerId: 'gold-1', storeId: 'Q', etaSeconds: 1200 }),
      ...slowOrders('Q', T0 + MIN),
      msg('customer.en-route', T0 + 12 * MIN, { customerId: 'gold-2', storeId: 'Q', etaSeconds: 1200 }),
      ...Array.from({ length: 20 }, (_, m) => msg('curbside.arrived', T0 + (7 + m) * MIN, { orderId: `b${m}`, storeId: 'B', customerId: `b${m}`, promisedWaitSeconds: 300 })),
    ].sort((a, b) => JSON.parse(String(a.value)).time.localeCompare(JSON.parse(String(b.value)).time));
    const routing = buildRouting(ruleSet);
    const rules = taskRulesOf(ruleSet, routing);
    const run = async (cut: number | null): Promise<string[]> => {
      const router = new SourceRouter(0, 1);
      const ledger = new MemoryStore();
      let task = new PartitionTask(0, 1);
      const stored = new Map<string, string>();
      let meta: PersistedMeta | null = null;
      const facts: FactsPort = { factsAt: async (qs) => qs.map((q) => task.entities.get(q.tag)?.facts.at(q.time) ?? null) };
      const out: string[] = [];
      for (let i = 0; i < messages.length; i++) {
        const routed = router.route([messages[i]!], routing, { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 });
        expect(routed.deadLetters).toEqual([]);
        const record = routed.records.get(0);
        if (record) task.process(rules, [{ offset: i, record }]);
        const { decisions } = await decideCandidates(task.takeDecidable(), ruleSet.policy, facts, ledger);
        out.push(...decisions.map((d) => `${d.offerId} ${d.outcome} ${d.time}`));
        const write = task.takeWrite();
        for (const [k, v] of write.fields) if (v === null) stored.delete(k); else stored.set(k, v);
        meta = JSON.parse(JSON.stringify(write.meta)) as PersistedMeta;
        if (i === cut) task = PartitionTask.restore(0, 1, rules, stored, meta);
      }
      task.flush(rules, Number.POSITIVE_INFINITY);
      const { decisions } = await decideCandidates(task.takeDecidable(), ruleSet.policy, facts, ledger);
      out.push(...decisions.map((d) => `${d.offerId} ${d.outcome} ${d.time}`));
      return out;
    };
    const whole = await run(null);
    expect(whole.length).toBe(2);
    for (const cut of [3, 10, 15, 22, 30]) expect(await run(cut)).toEqual(whole);
  });
});
