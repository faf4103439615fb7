/**
 * The owner stage of `run`: the partitions of the internal ops topic this process owns, each a
 * PartitionTask with its entities in memory. Per batch of one ops partition:
 *
 *   claim + load (first batch after an assignment, or after a failure) -> apply the records (stream
 *   time, closes, candidates) -> decide what the decision frontier allows (facts, guardrails, ledger)
 *   -> publish through the sink -> persist what the batch changed, with the applied offset, under
 *   the claim's fencing epoch -> publish the partition's frontier entry.
 *
 * A batch that fails drops the partition's task: the retry (or the next owner) starts again from
 * the last persisted state and the records after its applied offset, so a half-applied batch never
 * survives in memory. Knows nothing of Kafka or Redis: messages come in as RawMessage (their value an
 * OpRecord), state goes through the ports.
 */
import type { Decision } from '../actions/decision.js';
import { buildRouting } from '../cpis/routing.js';
import type { FactValue } from '../cpis/ops.js';
import { Facts } from '../entities/facts.js';
import { ErrorCodes } from '../errors/codes.js';
import { messageOf, type CpiwatchError } from '../errors/cpiwatch-error.js';
import type { RuleSet } from '../rules/compiled.js';
import type { LedgerVerdict, OfferCandidate } from '../store/state-store.js';
import { decideCandidates, type FactsPort } from './decide-candidates.js';
import { decisionGate, type FrontierEntry, type FrontierPort } from './decision-frontier.js';
import { engine } from './engine-step.js';
import { settleFactChecks } from './fact-checks.js';
import { decodeOpRecord, traceparentsOf, type OpRecord } from './op-records.js';
import { ownerOf } from './owner-of.js';
import { mergeOutcomes, PartitionTask, type PersistedMeta, type TaskRules } from './partition-task.js';
import { stepResult } from './step-result.js';
import { taskRulesOf } from './task-rules.js';
import type { ActionSink, BatchResult, DeadLetter, RawMessage } from './types.js';

/** What the stage needs of the partitions' durable state (store/redis/partition-state.ts). */
export interface OwnedStatePort {
  claim(partition: string): Promise<{ epoch: number; entities: Map<string, string>; meta: string | null }>;
  save(partition: string, epoch: number, write: { entities: Map<string, string | null>; offsets: Record<string, number>; meta?: string }): Promise<void>;
  readEntities(partition: string, fields: string[]): Promise<(string | null)[]>;
}

export interface OwnerLedgerPort {
  decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]>;
  markPublished(offerIds: string[]): Promise<void>;
}

export interface OwnerStageOptions {
  /** The ops topic (its partitions' names in the state store are `<topic>:<n>`). */
  topic: string;
  /** Partitions of the ops topic (= of the input topic): owners and sources alike. */
  partitions: number;
  state: OwnedStatePort;
  ledger: OwnerLedgerPort;
  frontier: FrontierPort;
}

interface Owned { task: PartitionTask; epoch: number }

export class OwnerStage {
  private rules: TaskRules;
  private ruleSet: RuleSet;
  private readonly owned = new Map<number, Owned>();

  constructor(ruleSet: RuleSet, private readonly o: OwnerStageOptions) {
    this.ruleSet = ruleSet;
    this.rules = taskRulesOf(ruleSet, buildRouting(ruleSet));
  }

  get ruleSetInUse(): RuleSet {
    return this.ruleSet;
  }

  setRules(ruleSet: RuleSet): void {
    this.ruleSet = ruleSet;
    this.rules = taskRulesOf(ruleSet, buildRouting(ruleSet));
  }

  /**
   * After a rebalance every task is dropped, also of partitions this process keeps: between two
   * generations another member may have owned one and moved its persisted state past the task in
   * memory. The next batch of each claims it afresh and loads what was persisted last.
   */
  assigned(_partitions: readonly number[]): void {
    this.owned.clear();
  }

  /** The partitions owned now and their stream time (metrics, readiness). */
  streamTimes(): Map<number, number | null> {
    return new Map([...this.owned].map(([p, o]) => [p, o.task.now]));
  }

  async processBatch(messages: readonly RawMessage[], _source: string, options: { sink: ActionSink }): Promise<BatchResult> {
    const partition = messages[0]!.origin.partition;
    const name = `${this.o.topic}:${partition}`;
    const started = performance.now();
    const records: { offset: number; record: OpRecord }[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const m of messages) {
      try {
        records.push({ offset: m.origin.offset, record: decodeOpRecord(m.value) });
      } catch (err) {
        deadLetters.push({ message: m, code: ErrorCodes.OPS_RECORD_INVALID.code, reason: messageOf('OPS_RECORD_INVALID', (err as Error).message) });
      }
    }
    try {
      const owned = this.owned.get(partition) ?? (await this.claim(partition, name));
      const { task } = owned;
      const at = `${name} offsets ${messages[0]!.origin.offset}..${messages[messages.length - 1]!.origin.offset}`;
      const outcome = engine(at, () => task.process(this.rules, records));
      const t1 = performance.now();
      const frontier = await this.o.frontier.read();
      // the partitions this process owns: their live state, fresher than what they last wrote (a
      // task's stream time and candidates are a function of the records it applied, so one that
      // fails and starts again from its persisted state reaches the same ones)
      for (const [q, o] of this.owned) frontier.set(q, frontierEntryOf(o.task));
      let gate = decisionGate(partition, this.o.partitions, frontier);
      // observations of CPIs with `customers` whose customers' facts are final now (pipeline/fact-checks.ts)
      const checked = await settleFactChecks({
        takeFactChecks: (rules, before) => engine(at, () => task.takeFactChecks(rules, before)),
        applyFactChecks: (rules, checks, facts) => engine(at, () => task.applyFactChecks(rules, checks, facts)),
      }, this.rules, gate.factsFinal, this.facts(partition));
      if (checked) {
        mergeOutcomes(outcome, checked);
        // settled further now: the closes they held have run
        frontier.set(partition, frontierEntryOf(task));
        gate = decisionGate(partition, this.o.partitions, frontier);
      }
      const decidable = engine(at, () => task.takeDecidable(gate));
      const { decisions, filteredOut } = await decideCandidates(decidable, this.ruleSet.policy, this.facts(partition), this.ledger(name), this.ruleSet.templates);
      const t2 = performance.now();
      const published: Decision[] = [];
      let skippedReplays = 0;
      for (const d of decisions) {
        if (d.published) { skippedReplays += 1; continue; }
        const { published: _p, ...decision } = d;
        published.push(decision);
      }
      if (deadLetters.length > 0) await options.sink.deadLetter(deadLetters);
      if (published.length > 0) {
        await options.sink.publish(published);
        await this.o.ledger.markPublished(published.map((d) => d.offerId));
      }
      const write = engine(at, () => task.takeWrite());
      const last = messages[messages.length - 1]!.origin.offset;
      await this.o.state.save(name, owned.epoch, { entities: write.fields, offsets: { [name]: last }, meta: JSON.stringify(write.meta) });
      await this.o.frontier.write(partition, frontierEntryOf(task));
      return stepResult({
        consumed: 0, deadLetters, cpiIssues: [], task: outcome, published, skippedReplays, filteredOut, topic: this.o.topic,
        traceparents: traceparentsOf(records.map(({ record }) => record), false),
        timings: { windowUpdateMs: t1 - started, decideMs: t2 - t1, publishMs: performance.now() - t2 },
      });
    } catch (err) {
      // nothing of a failed batch stays in memory: the retry starts from the persisted state
      this.owned.delete(partition);
      throw err;
    }
  }

  /**
   * An ops record that fails for good: dead-lettered whole (its events' ops for this partition are
   * not applied), counted as its events dead-lettered. The other owners apply their own parts of
   * those events; the letter names the input partition and offsets they came from.
   */
  async poisoned(message: RawMessage, error: CpiwatchError, _source: string, options: { sink: ActionSink }): Promise<BatchResult> {
    let events = 1;
    let from = '';
    try {
      const record = decodeOpRecord(message.value);
      events = record.events.filter((e) => e.c !== 0).length;
      const offsets = record.events.map((e) => e.offset);
      if (offsets.length > 0) from = ` (events of input partition ${record.source}, offsets ${Math.min(...offsets)}..${Math.max(...offsets)})`;
    } catch { /* an unreadable record counts as one */ }
    const letter: DeadLetter = { message, code: error.code, reason: `${error.message}${from}` };
    await options.sink.deadLetter([letter]);
    const result = stepResult({ consumed: 0, deadLetters: [letter], cpiIssues: [], task: null, published: [], skippedReplays: 0, filteredOut: [], topic: this.o.topic });
    result.counts.deadLettered = events;
    return result;
  }

  private async claim(partition: number, name: string): Promise<Owned> {
    const snapshot = await this.o.state.claim(name);
    const meta = snapshot.meta === null ? null : (JSON.parse(snapshot.meta) as PersistedMeta);
    const task = PartitionTask.restore(partition, this.o.partitions, this.rules, snapshot.entities, meta);
    const owned = { task, epoch: snapshot.epoch };
    this.owned.set(partition, owned);
    return owned;
  }

  /** Ledger decisions made as this partition (its publish journal covers a crash before the commit). */
  private ledger(name: string): { decide(c: OfferCandidate[]): Promise<LedgerVerdict[]> } {
    return { decide: (candidates) => this.o.ledger.decide(candidates.map((c) => ({ ...c, source: name }))) };
  }

  /**
   * Facts as of a time: from the task that owns the entity when this process owns it, else from its
   * owner's persisted state (final for that time: the frontier let the decision through only once
   * every partition's stream time had passed it).
   */
  private facts(self: number): FactsPort {
    return {
      factsAt: async (queries) => {
        const out: (Record<string, FactValue> | null)[] = queries.map(() => null);
        const remote = new Map<number, { i: number; tag: string; time: number }[]>();
        queries.forEach((q, i) => {
          const p = ownerOf(q.tag, this.o.partitions);
          const local = this.owned.get(p)?.task;
          if (local) out[i] = local.entities.get(q.tag)?.facts.at(q.time) ?? null;
          else remote.set(p, [...(remote.get(p) ?? []), { i, ...q }]);
        });
        for (const [p, list] of remote) {
          if (p === self) continue;
          const values = await this.o.state.readEntities(`${this.o.topic}:${p}`, list.map((q) => `${q.tag}|f`));
          list.forEach((q, k) => {
            const v = values[k];
            out[q.i] = v ? Facts.decode(v).at(q.time) : null;
          });
        }
        return out;
      },
    };
  }
}

/** What a partition publishes of itself: its stream time, how far its candidates are settled, its customers' earliest. */
function frontierEntryOf(task: PartitionTask): FrontierEntry {
  const settled = task.settled;
  const now = task.now;
  return { now, ...(now !== null && settled < now ? { settled } : {}), pending: task.pendingByCustomer };
}
