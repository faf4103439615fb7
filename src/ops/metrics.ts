/**
 * The Prometheus metrics of a processor (one registry per processor instance). Names, labels and
 * meanings are listed in docs/operations.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchResult } from '../pipeline/types.js';

export class Metrics {
  readonly registry = new Registry();
  readonly eventsConsumed = new Counter({ name: 'cpiwatch_events_consumed_total', help: 'Events consumed from Kafka', registers: [this.registry] });
  readonly events = new Counter({ name: 'cpiwatch_events_total', help: 'Consumed events by outcome: applied, late, duplicate, unmatched, dead_lettered', labelNames: ['outcome'], registers: [this.registry] });
  readonly invalid = new Counter({ name: 'cpiwatch_events_invalid_total', help: 'Dead-lettered events by error code', labelNames: ['code'], registers: [this.registry] });
  readonly cpiIssues = new Counter({ name: 'cpiwatch_cpi_field_missing_total', help: 'Valid events a CPI could not use (missing groupBy or value field)', labelNames: ['cpi', 'field'], registers: [this.registry] });
  readonly batchDuration = new Histogram({ name: 'cpiwatch_batch_duration_seconds', help: 'Time to process one batch end to end', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly windowUpdate = new Histogram({ name: 'cpiwatch_window_update_seconds', help: 'Time of the window-update round trip of one batch', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly transactionDuration = new Histogram({ name: 'cpiwatch_kafka_transaction_seconds', help: 'Time of one committed Kafka transaction (output and consumer offsets of one or more batches)', buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly transactionBatches = new Histogram({ name: 'cpiwatch_kafka_transaction_batches', help: 'Batches whose output one Kafka transaction committed (group commit)', buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32], registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'cpiwatch_batch_events', help: 'Events per batch', buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000], registers: [this.registry] });
  readonly ruleEvaluations = new Counter({ name: 'cpiwatch_rule_evaluations_total', help: 'Rule evaluations (one per rule per bucket close that can change its value or state)', labelNames: ['rule'], registers: [this.registry] });
  readonly ruleTransitions = new Counter({ name: 'cpiwatch_rule_transitions_total', help: 'Rule state transitions', labelNames: ['rule', 'transition'], registers: [this.registry] });
  readonly offers = new Counter({ name: 'cpiwatch_offers_total', help: 'Offers published', labelNames: ['rule'], registers: [this.registry] });
  readonly customerChecks = new Counter({ name: 'cpiwatch_customer_checks_total', help: "Events of CPIs with customers: checked on the customer's facts as of the event, counted or left out", labelNames: ['cpi', 'outcome'], registers: [this.registry] });
  readonly suppressed = new Counter({ name: 'cpiwatch_offers_suppressed_total', help: 'Offers suppressed by a guardrail', labelNames: ['rule', 'reason'], registers: [this.registry] });
  readonly filtered = new Counter({ name: 'cpiwatch_candidates_filtered_total', help: 'Candidates a rule\'s filter on customer facts left out, by whether the customer had facts (present) or no profile yet (missing)', labelNames: ['rule', 'facts'], registers: [this.registry] });
  readonly offerTextFallbacks = new Counter({ name: 'cpiwatch_offer_text_fallbacks_total', help: "Offers published with the rule's own title and terms because its offer template failed to render (CPW509)", labelNames: ['rule'], registers: [this.registry] });
  readonly replaysSkipped = new Counter({ name: 'cpiwatch_decisions_replay_skipped_total', help: 'Redelivered decisions the ledger had already published', registers: [this.registry] });
  readonly emails = new Counter({ name: 'cpiwatch_emails_total', help: 'Offer e-mails by result: sent, failed (will retry), gave_up, duplicate, no_address, invalid (a record of the offers topic that is no offer, skipped)', labelNames: ['result'], registers: [this.registry] });
  readonly lag = new Gauge({ name: 'cpiwatch_consumer_lag', help: 'Messages behind the partition end: its end offset minus the group\'s committed offset, read from the broker every few seconds, for the partitions this process consumes', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly rulesLoaded = new Gauge({ name: 'cpiwatch_rules_loaded', help: 'Rules in the active rule set', registers: [this.registry] });
  readonly ruleReloads = new Counter({ name: 'cpiwatch_rule_reloads_total', help: 'Rule reloads by result: ok, rejected', labelNames: ['result'], registers: [this.registry] });
  readonly batchErrors = new Counter({ name: 'cpiwatch_batch_errors_total', help: 'Failed attempts at a batch (or part of one), by error code and whether it is retried (true) or the batch is split to isolate the input behind it (false)', labelNames: ['code', 'retriable'], registers: [this.registry] });
  readonly poisoned = new Counter({ name: 'cpiwatch_poison_messages_total', help: 'Messages that failed for good after isolation and were dead-lettered, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly startupRetries = new Counter({ name: 'cpiwatch_startup_retries_total', help: 'Failed attempts to reach a dependency at start-up, by dependency: kafka, redis', labelNames: ['dependency'], registers: [this.registry] });
  readonly ready = new Gauge({ name: 'cpiwatch_ready', help: '1 when ready (Kafka joined, Redis reachable, rules loaded)', registers: [this.registry] });
  readonly coordinatorLoading = new Counter({ name: 'cpiwatch_kafka_coordinator_loading_total', help: 'kafkajs errors of a group coordinator still loading (retried by kafkajs, logged at debug, not error)', registers: [this.registry] });
  readonly stateLost = new Gauge({ name: 'cpiwatch_state_lost', help: '1 once Redis was found to have lost the state (processing stopped)', registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'cpiwatch_process_' });
  }

  recordTransaction(batches: number, durationMs: number): void {
    this.transactionDuration.observe(durationMs / 1000);
    this.transactionBatches.observe(batches);
  }

  recordBatch(result: BatchResult, durationMs: number): void {
    const c = result.counts;
    this.eventsConsumed.inc(c.consumed);
    for (const [outcome, n] of [['applied', c.applied], ['late', c.late], ['duplicate', c.duplicate], ['unmatched', c.unmatched], ['dead_lettered', c.deadLettered]] as const) {
      if (n > 0) this.events.inc({ outcome }, n);
    }
    for (const dl of result.deadLetters) this.invalid.inc({ code: dl.code });
    for (const i of result.cpiIssues) this.cpiIssues.inc({ cpi: i.cpi, field: i.field });
    this.batchDuration.observe(durationMs / 1000);
    this.windowUpdate.observe(result.timings.windowUpdateMs / 1000);
    this.batchSize.observe(c.consumed);
    for (const e of result.evaluations) {
      this.ruleEvaluations.inc({ rule: e.ruleId });
      if (e.transition) this.ruleTransitions.inc({ rule: e.ruleId, transition: e.transition });
    }
    for (const d of result.published) {
      if (d.outcome === 'offered') this.offers.inc({ rule: d.rule.id });
      else this.suppressed.inc({ rule: d.rule.id, reason: d.reason ?? 'unknown' });
      if (d.texts?.fallback) this.offerTextFallbacks.inc({ rule: d.rule.id });
    }
    for (const [cpi, c] of Object.entries(result.customerChecks ?? {})) {
      if (c.counted > 0) this.customerChecks.inc({ cpi, outcome: 'counted' }, c.counted);
      if (c.leftOut > 0) this.customerChecks.inc({ cpi, outcome: 'left_out' }, c.leftOut);
    }
    for (const f of result.filteredOut) this.filtered.inc({ rule: f.ruleId, facts: f.facts === null ? 'missing' : 'present' });
    if (result.skippedReplays > 0) this.replaysSkipped.inc(result.skippedReplays);
  }
}
