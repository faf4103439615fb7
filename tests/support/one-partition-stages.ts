// The two stages of `run` for one input partition and one owner partition, in memory (the real
// RouteStage and OwnerStage on in-memory state, ledger and frontier), with a wall clock: what the
// hostile-input tests push events through. `step` routes a batch and applies what it forwarded, and
// returns one BatchResult for both; `redeliverOwner` hands the owner its whole log again, as after
// a crash before its commits.
import { MemoryFrontier } from '../../src/pipeline/decision-frontier.js';
import { OwnerStage, type OwnerStageOptions } from '../../src/pipeline/owner-stage.js';
import { RouteStage } from '../../src/pipeline/route-stage.js';
import type { ActionSink, BatchResult, RawMessage } from '../../src/pipeline/types.js';
import type { RuleSet } from '../../src/rules/compiled.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { MemoryPartitionState } from '../../src/store/memory/partition-state.js';

export class OnePartitionStages {
  private readonly route: RouteStage;
  private readonly owner: OwnerStage;
  private readonly log: Buffer[] = [];

  constructor(ruleSet: RuleSet, o: { clock: () => number; maxFutureMs?: number; maxBytes?: number; ports?: Pick<OwnerStageOptions, 'state' | 'ledger' | 'frontier'>; topic?: string }) {
    this.route = new RouteStage(ruleSet, { partitions: 1, limits: { maxBytes: o.maxBytes ?? 1_048_576 }, clock: o.clock, maxFutureMs: o.maxFutureMs ?? 5 * 60_000 });
    this.owner = new OwnerStage(ruleSet, {
      topic: o.topic ?? 'ops', partitions: 1,
      ...(o.ports ?? { state: new MemoryPartitionState(), ledger: new MemoryStore(), frontier: new MemoryFrontier() }),
    });
  }

  async step(batch: readonly RawMessage[], sink: ActionSink): Promise<BatchResult> {
    const from = this.log.length;
    const routed = await this.route.processBatch(batch, 'events:0', { sink: { ...sink, publish: sink.publish.bind(sink), deadLetter: sink.deadLetter.bind(sink), forward: async (records) => { for (const r of records) this.log.push(r.value); } } });
    if (this.log.length === from) return routed;
    const owned = await this.owner.processBatch(this.messages(from, this.log.length), 'ops:0', { sink });
    return {
      ...owned,
      counts: { ...owned.counts, consumed: routed.counts.consumed, applied: routed.counts.applied + owned.counts.applied, deadLettered: routed.counts.deadLettered + owned.counts.deadLettered },
      deadLetters: [...routed.deadLetters, ...owned.deadLetters],
      cpiIssues: routed.cpiIssues,
    };
  }

  /** The owner's whole log again, `size` records at a time. */
  async redeliverOwner(sink: ActionSink, size: number): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    for (let i = 0; i < this.log.length; i += size) out.push(await this.owner.processBatch(this.messages(i, Math.min(this.log.length, i + size)), 'ops:0', { sink }));
    return out;
  }

  private messages(from: number, to: number): RawMessage[] {
    return this.log.slice(from, to).map((value, i) => ({ value: Buffer.from(value), origin: { topic: 'ops', partition: 0, offset: from + i } }));
  }
}
