// The routing and owner stages of `run` (the real RouteStage and OwnerStage, with in-memory state,
// ledger and decision frontier) over n partitions, with the keying, batch sizes and the order in
// which the owners get to run chosen by the caller (property tests of the decision order).
import type { Decision } from '../../src/actions/decision.js';
import { decisionEventOf } from '../../src/actions/offer-event.js';
import { MemoryFrontier } from '../../src/pipeline/decision-frontier.js';
import { OwnerStage } from '../../src/pipeline/owner-stage.js';
import { RouteStage, type RouteSink } from '../../src/pipeline/route-stage.js';
import type { RawMessage } from '../../src/pipeline/types.js';
import type { RuleSet } from '../../src/rules/compiled.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { MemoryPartitionState } from '../../src/store/memory/partition-state.js';

/** Decisions as their wire form, sorted: equal lists are the same decisions to the byte. */
export const wire = (ds: Decision[]) => ds.map((d) => JSON.stringify(decisionEventOf(d))).sort();

export interface Run {
  partitions: number; sourceOf: (m: RawMessage, i: number) => number; routeBatch: () => number; ownerBatch: () => number; pick: (ready: number[]) => number;
  /** After every this many owner batches the owner stage is a new one (a restart): it loads what the old one persisted. */
  restartEvery?: number;
  /** The partitions with records run their batches side by side (as kafkajs runs partitions), not one at a time. */
  concurrent?: boolean;
}

export async function runOwners(ruleSet: RuleSet, messages: readonly RawMessage[], o: Run): Promise<Decision[]> {
  const n = o.partitions;
  const route = new RouteStage(ruleSet, { partitions: n, limits: { maxBytes: 1_048_576 }, clock: () => Number.POSITIVE_INFINITY, maxFutureMs: 0 });
  const ports = { topic: 'ops', partitions: n, state: new MemoryPartitionState(), ledger: new MemoryStore(), frontier: new MemoryFrontier() };
  let owner = new OwnerStage(ruleSet, ports);
  let batches = 0;
  const logs: Buffer[][] = Array.from({ length: n }, () => []);
  const done = logs.map(() => 0);
  const decisions: Decision[] = [];
  const sink: RouteSink = {
    publish: async (ds) => { decisions.push(...ds); },
    deadLetter: async () => undefined,
    forward: async (records) => { for (const r of records) logs[r.partition]!.push(r.value); },
  };
  const perSource: RawMessage[][] = Array.from({ length: n }, () => []);
  messages.forEach((m, i) => { const s = o.sourceOf(m, i); perSource[s]!.push({ ...m, origin: { topic: 'events', partition: s, offset: perSource[s]!.length } }); });
  // every input partition routed (in random batches), then the owners run in an arbitrary order
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < perSource[s]!.length;) {
      const size = Math.max(1, o.routeBatch());
      await route.processBatch(perSource[s]!.slice(i, i + size), `events:${s}`, { sink });
      i += size;
    }
  }
  const ownerStep = async (p: number) => {
    const size = Math.max(1, o.ownerBatch());
    const values = logs[p]!.slice(done[p], done[p]! + size);
    const batch = values.map((value, i) => ({ value: Buffer.from(value), origin: { topic: 'ops', partition: p, offset: done[p]! + i } }));
    done[p]! += values.length;
    await owner.processBatch(batch, `ops:${p}`, { sink });
    if (o.restartEvery !== undefined && ++batches % o.restartEvery === 0) owner = new OwnerStage(ruleSet, ports);
  };
  const drain = async () => {
    for (;;) {
      const ready = logs.map((l, p) => (done[p]! < l.length ? p : -1)).filter((p) => p >= 0);
      if (ready.length === 0) return;
      if (o.concurrent) await Promise.all(ready.map((p) => ownerStep(p)));
      else await ownerStep(o.pick(ready));
    }
  };
  await drain();
  // the end of the input: idle marks far ahead, in rounds, until nothing more is decided (three
  // quiet rounds: a close held for customer facts needs one round for the facts to be final
  // everywhere and one for the other partitions to publish that they are settled)
  for (let round = 0, quiet = 0; quiet < 3 && round < 40; round++) {
    const before = decisions.length;
    for (let s = 0; s < n; s++) await sink.forward(route.idle(s, round === 0 ? 1e13 : 0));
    await drain();
    quiet = decisions.length === before ? quiet + 1 : 0;
  }
  return decisions;
}

