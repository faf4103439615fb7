/**
 * The one way cpiwatch replays events outside production: the stream-time engine in one process
 * (pipeline/local-engine.ts: the routing stage, one owner partition and the decisions of `run`) on
 * an in-memory ledger, with a clock at +infinity so no event is ever "in the future". Rule tests,
 * backtests and explain all go through here, so none of them can drift from `run`. At the end of the
 * input (`finish`) stream time goes to +infinity: every window closes, every waiting candidate is
 * decided.
 */
import { LocalEngine, type EngineStep } from './local-engine.js';
import { stepResult } from './step-result.js';
import type { ActionSink, BatchResult, RawMessage } from './types.js';
import type { RuleSet } from '../rules/compiled.js';
import { MemoryStore } from '../store/memory/memory-store.js';

export interface Replay {
  engine: LocalEngine;
  /** Processes one batch; its decisions and dead letters go to the sink. */
  step(messages: readonly RawMessage[]): Promise<BatchResult>;
  /** Feeds messages in order, `batchSize` at a time; calls onBatch after each step. Call finish() at the end of the input. */
  feed(messages: readonly RawMessage[], onBatch?: (result: BatchResult, batch: readonly RawMessage[]) => void): Promise<void>;
  /** End of input: the last closes and decisions. */
  finish(): Promise<BatchResult>;
}

export function createReplay(ruleSet: RuleSet, options: { sink?: ActionSink; batchSize?: number; maxEventBytes?: number } = {}): Replay {
  const engine = new LocalEngine(ruleSet, new MemoryStore(), { maxBytes: options.maxEventBytes ?? 1_048_576 });
  const sink = options.sink;
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  let topic = 'replay';
  const emit = async (s: EngineStep): Promise<BatchResult> => {
    if (sink && s.deadLetters.length > 0) await sink.deadLetter(s.deadLetters);
    if (sink && s.decisions.length > 0) await sink.publish(s.decisions);
    return stepResult({ ...s, published: s.decisions, skippedReplays: 0, topic });
  };
  const replay: Replay = {
    engine,
    async step(messages) {
      if (messages[0]) topic = messages[0].origin.topic;
      return emit(await engine.process(messages));
    },
    async finish() {
      return emit(await engine.finish());
    },
    async feed(messages, onBatch) {
      for (let i = 0; i < messages.length; i += batchSize) {
        const batch = messages.slice(i, i + batchSize);
        const result = await replay.step(batch);
        onBatch?.(result, batch);
      }
    },
  };
  return replay;
}

