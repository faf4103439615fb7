/**
 * The backtest: history replayed through the real engine (backtest/replay.ts) batch by batch, the
 * decisions handed on as they are taken, and a summary per rule built from what the engine reported.
 */
import type { Decision } from '../actions/decision.js';
import type { ActionSink, BatchResult, DeadLetter, RawMessage } from '../pipeline/types.js';
import type { RuleSet } from '../rules/compiled.js';
import type { FactValue } from '../cpis/ops.js';
import { createReplay } from '../pipeline/replay.js';
import type { EventBatches } from './ndjson-source.js';
import { SummaryBuilder, type BacktestSummary } from './summary.js';

export interface BacktestOptions {
  ruleSet: RuleSet;
  input: EventBatches;
  /** The decisions of each batch, in order (offers and suppressed ones). */
  onDecisions?: (decisions: Decision[]) => void | Promise<void>;
  /** Every batch's result, with the messages it came from (reports, explain). */
  onBatch?: (result: BatchResult, batch: readonly RawMessage[]) => void;
  onProgress?: (done: number) => void;
}

export interface BacktestRun {
  summary: BacktestSummary;
  /** An entity's latest facts as the replay left them (explain). */
  factsOf(tag: string): Record<string, FactValue> | null;
}

export async function runBacktest(o: BacktestOptions): Promise<BacktestRun> {
  const summary = new SummaryBuilder(o.ruleSet);
  const sink: ActionSink = {
    publish: async (decisions) => { await o.onDecisions?.(decisions); },
    deadLetter: async (letters: DeadLetter[]) => { summary.addDeadLetters(letters); },
  };
  const replay = createReplay(o.ruleSet, { sink });
  for await (const batch of o.input.batches(o.onProgress)) {
    if (batch.length === 0) continue;
    const result = await replay.step(batch);
    summary.addBatch(result);
    o.onBatch?.(result, batch);
  }
  const last = await replay.finish();
  summary.addBatch(last);
  o.onBatch?.(last, []);
  return { summary: summary.build(), factsOf: (tag) => replay.engine.factsOf(tag) };
}
