// One in-order pass of the local engine (the core `backtest` and `test` run) in batches, summed up
// in a form two passes can be compared on: every rule evaluation (rule, scope, boundary, value,
// transition), every decision on the wire, and the event counts.
import { decisionEventOf } from '../../src/actions/offer-event.js';
import { LocalEngine } from '../../src/pipeline/local-engine.js';
import type { RawMessage } from '../../src/pipeline/types.js';
import type { RuleSet } from '../../src/rules/compiled.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

export interface LocalRun { evaluations: string[]; decisions: string[]; counts: { applied: number; late: number; duplicate: number; unmatched: number } }

/** Messages as they would sit in one partition: offsets in order. */
export function asMessages(events: readonly object[]): RawMessage[] {
  return events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e)), origin: { topic: 'e', partition: 0, offset: i } }));
}

export async function localRun(ruleSet: RuleSet, messages: readonly RawMessage[], batch: number): Promise<LocalRun> {
  const engine = new LocalEngine(ruleSet, new MemoryStore());
  const out: LocalRun = { evaluations: [], decisions: [], counts: { applied: 0, late: 0, duplicate: 0, unmatched: 0 } };
  const take = (step: Awaited<ReturnType<LocalEngine['process']>>) => {
    for (const k of Object.keys(out.counts) as (keyof LocalRun['counts'])[]) out.counts[k] += step.task.counts[k];
    out.evaluations.push(...step.task.evaluations.map((e) => `${e.ruleId} ${e.scopeTag} ${e.at} ${e.value} ${e.transition ?? ''}`));
    out.decisions.push(...step.decisions.map((d) => JSON.stringify(decisionEventOf(d))));
  };
  for (let i = 0; i < messages.length; i += batch) take(await engine.process(messages.slice(i, i + batch)));
  take(await engine.finish());
  out.evaluations.sort();
  out.decisions.sort();
  return out;
}
