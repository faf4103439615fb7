/**
 * The one way cpiwatch replays events outside production: the real Pipeline on an embedded
 * in-memory state store, with a clock at +infinity so no event is ever "in the future". Rule unit
 * tests, backtests and explain all go through here, so none of them can drift from `run`.
 */
import { CollectingSink } from '../pipeline/collecting-sink.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { ActionSink, BatchResult, RawMessage } from '../pipeline/types.js';
import type { RuleSet } from '../rules/compiled.js';
import { MemoryStore } from '../store/memory/memory-store.js';

export interface Replay {
  pipeline: Pipeline;
  store: MemoryStore;
  /** Feeds messages in order, `batchSize` at a time; calls onBatch after each batch. */
  feed(messages: readonly RawMessage[], source: string, onBatch?: (result: BatchResult, batch: readonly RawMessage[]) => void): Promise<void>;
}

export const REPLAY_CLOCK = (): number => Number.POSITIVE_INFINITY;

export function createReplay(ruleSet: RuleSet, options: { sink?: ActionSink; batchSize?: number; maxEventBytes?: number } = {}): Replay {
  const store = new MemoryStore();
  const sink = options.sink ?? new CollectingSink();
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  const pipeline = new Pipeline({ store, sink, clock: REPLAY_CLOCK, limits: { maxBytes: options.maxEventBytes ?? 1_048_576 } }, ruleSet);
  return {
    pipeline,
    store,
    async feed(messages, source, onBatch) {
      for (let i = 0; i < messages.length; i += batchSize) {
        const batch = messages.slice(i, i + batchSize);
        const result = await pipeline.processBatch(batch, source);
        onBatch?.(result, batch);
      }
    },
  };
}
