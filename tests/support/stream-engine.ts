// Several input partitions (sources) routed into one owner partition, in memory: the stages of
// `run` without Kafka, with the batching of each source and the interleaving of their records at
// the owner chosen by the test.
import type { Decision } from '../../src/actions/decision.js';
import { buildRouting } from '../../src/cpis/routing.js';
import { decideCandidates, type FactsPort } from '../../src/pipeline/decide-candidates.js';
import type { OpRecord } from '../../src/pipeline/op-records.js';
import { PartitionTask } from '../../src/pipeline/partition-task.js';
import { SourceRouter } from '../../src/pipeline/route.js';
import { taskRulesOf } from '../../src/pipeline/task-rules.js';
import type { RawMessage } from '../../src/pipeline/types.js';
import type { RuleSet } from '../../src/rules/compiled.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

export interface MultiSourceRun {
  /** Which source each message goes to (messages keep their order within a source). */
  sourceOf: (message: RawMessage, index: number) => number;
  sources: number;
  /** Batch size of the routing stage, per batch (called repeatedly). */
  routeBatch: () => number;
  /** Which source's next record the owner takes (called with the sources that have records left). */
  pick: (ready: number[]) => number;
  /** How many records the owner takes per batch. */
  ownerBatch: () => number;
}

export async function runMultiSource(ruleSet: RuleSet, messages: readonly RawMessage[], o: MultiSourceRun): Promise<Decision[]> {
  const routing = buildRouting(ruleSet);
  const rules = taskRulesOf(ruleSet, routing);
  const perSource: RawMessage[][] = Array.from({ length: o.sources }, () => []);
  messages.forEach((m, i) => perSource[o.sourceOf(m, i)]!.push(m));
  const records: OpRecord[][] = perSource.map((list, s) => {
    const router = new SourceRouter(s, 1);
    const out: OpRecord[] = [];
    for (let i = 0; i < list.length;) {
      const n = Math.max(1, o.routeBatch());
      const r = router.route(list.slice(i, i + n), routing, { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 });
      const rec = r.records.get(0);
      if (rec) out.push(rec);
      i += n;
    }
    return out;
  });
  const task = new PartitionTask(0, o.sources);
  const ledger = new MemoryStore();
  const facts: FactsPort = { factsAt: async (qs) => qs.map((q) => task.entities.get(q.tag)?.facts.at(q.time) ?? null) };
  const decisions: Decision[] = [];
  const decide = async () => {
    const { decisions: ds } = await decideCandidates(task.takeDecidable(), ruleSet.policy, facts, ledger);
    decisions.push(...ds.filter((d) => !d.replay));
  };
  const next = records.map(() => 0);
  let offset = 0;
  for (;;) {
    const batch: { offset: number; record: OpRecord }[] = [];
    const want = Math.max(1, o.ownerBatch());
    while (batch.length < want) {
      const ready = next.map((n, s) => (n < records[s]!.length ? s : -1)).filter((s) => s >= 0);
      if (ready.length === 0) break;
      const s = o.pick(ready);
      batch.push({ offset: offset++, record: records[s]![next[s]!++]! });
    }
    if (batch.length === 0) break;
    task.process(rules, batch);
    await decide();
  }
  task.flush(rules, Number.POSITIVE_INFINITY);
  await decide();
  return decisions;
}
