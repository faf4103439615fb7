/**
 * The stream processor's core loop for one batch of one source partition:
 *
 *   decode + derive ops -> apply to windows (1 store round trip) -> evaluate rules at bucket closes
 *   -> candidates -> guardrails + ledger -> publish offers and decisions -> mark published
 *   -> save rule states
 *
 * Idempotent end to end: window updates skip offsets already applied; a redelivered batch re-derives
 * the same episodes and offer ids, and the ledger keeps any offer from being published twice.
 * Knows nothing of Kafka: messages come in as RawMessage, actions leave through an ActionSink.
 */
import type { Decision } from '../actions/decision.js';
import { buildRouting, type Routing } from '../cpis/routing.js';
import type { DecodeLimits } from '../events/decode.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import type { StateStore } from '../store/state-store.js';
import { findCandidates } from './candidates.js';
import { decide } from './decide.js';
import { evaluateCloses } from './evaluate-closes.js';
import { prepareBatch } from './prepare-batch.js';
import type { ActionSink, BatchResult, EventCounts, RawMessage } from './types.js';

export interface PipelineOptions {
  store: StateStore;
  sink: ActionSink;
  /** Wall clock (ms). Injected: backtests pass a clock that never rejects future events. */
  clock: () => number;
  limits?: DecodeLimits;
  /** Events further ahead of the clock than this are dead-lettered. */
  maxFutureMs?: number;
}

/** A loaded rule set with its lookup tables, swapped atomically on reload. */
export interface ActiveRules {
  ruleSet: RuleSet;
  routing: Routing;
  rulesByCpi: ReadonlyMap<string, readonly CompiledRule[]>;
  rulesById: ReadonlyMap<string, CompiledRule>;
}

export function activate(ruleSet: RuleSet): ActiveRules {
  const rulesByCpi = new Map<string, CompiledRule[]>();
  for (const r of ruleSet.rules) rulesByCpi.set(r.cpi.id, [...(rulesByCpi.get(r.cpi.id) ?? []), r]);
  return { ruleSet, routing: buildRouting(ruleSet), rulesByCpi, rulesById: new Map(ruleSet.rules.map((r) => [r.id, r])) };
}

export class Pipeline {
  private active: ActiveRules;
  private readonly limits: DecodeLimits;
  private readonly maxFutureMs: number;

  constructor(private readonly options: PipelineOptions, ruleSet: RuleSet) {
    this.active = activate(ruleSet);
    this.limits = options.limits ?? { maxBytes: 1_048_576 };
    this.maxFutureMs = options.maxFutureMs ?? 5 * 60_000;
  }

  get rules(): RuleSet {
    return this.active.ruleSet;
  }

  /** Swaps the rule set; batches already running finish on the rules they started with. */
  setRules(ruleSet: RuleSet): void {
    this.active = activate(ruleSet);
  }

  /**
   * `options.sink` replaces the pipeline's sink for this batch: the Kafka consumer passes one that
   * stages the batch's output for a transaction with its consumer offset (adapters/kafka/exactly-once.ts).
   */
  async processBatch(messages: RawMessage[], source: string, options: { sink?: ActionSink } = {}): Promise<BatchResult> {
    const rules = this.active;
    const { store } = this.options;
    const sink = options.sink ?? this.options.sink;
    const prepared = prepareBatch(messages, source, rules.routing, { limits: this.limits, now: this.options.clock(), maxFutureMs: this.maxFutureMs });
    if (prepared.deadLetters.length > 0) await sink.deadLetter(prepared.deadLetters);

    const t0 = performance.now();
    const results = await store.applyOps(prepared.tagBatches);
    const t1 = performance.now();
    const counts: EventCounts = { consumed: messages.length, applied: 0, late: 0, duplicate: 0, unmatched: 0, deadLettered: prepared.deadLetters.length };
    const lateEvents: BatchResult['lateEvents'] = [];
    for (const pe of prepared.events) {
      const statuses = pe.ops.map(([b, o]) => results[b]!.statuses[o]);
      const status = statuses.length === 0 || statuses.includes('applied') ? 'applied'
        : statuses.includes('duplicate') ? 'duplicate'
        : statuses.includes('late') ? 'late' : 'unmatched';
      counts[status] += 1;
      if (status === 'late') lateEvents.push({ eventId: pe.event.id, time: pe.event.time, origin: pe.origin });
    }

    const closes = evaluateCloses(results, rules.rulesByCpi, rules.rulesById);
    const candidates = await findCandidates(closes.episodes, prepared.tagBatches, prepared.events, store);
    const { decisions, filteredOut } = await decide(candidates, rules.ruleSet.policy, store, source);
    const t2 = performance.now();

    const toPublish: Decision[] = [];
    let skippedReplays = 0;
    for (const d of decisions as (Decision & { published: boolean })[]) {
      if (d.published) { skippedReplays += 1; continue; }
      const { published: _published, ...decision } = d;
      toPublish.push(decision);
    }
    if (toPublish.length > 0) {
      await sink.publish(toPublish);
      await store.markPublished(toPublish.map((d) => d.offerId));
    }
    if (closes.stateUpdates.length > 0) await store.saveRuleStates(closes.stateUpdates);
    const t3 = performance.now();

    return {
      counts,
      deadLetters: prepared.deadLetters,
      published: toPublish,
      skippedReplays,
      evaluations: closes.evaluations,
      filteredOut: filteredOut.map(({ candidate: c, facts }) => ({
        ruleId: c.episode.rule.id, customerId: c.customerId, scopeTag: c.episode.tag, time: c.time, episode: c.episode.start, facts,
      })),
      cpiIssues: prepared.cpiIssues,
      lateEvents,
      traceparents: prepared.events.flatMap((pe) => (pe.event.traceparent ? [pe.event.traceparent] : [])),
      timings: { windowUpdateMs: t1 - t0, decideMs: t2 - t1, publishMs: t3 - t2 },
    };
  }
}
