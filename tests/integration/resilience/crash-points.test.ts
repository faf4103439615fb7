// Crash at every step of a batch, deterministically, in both stages of `run`: the routing stage
// (input partition -> ops records) and the owner stage (ops records -> windows, rules, decisions,
// offers) on the real Redis, each "killed" (an exception thrown, every stage and protocol object
// thrown away) just before or just after a call to Redis or to Kafka of a chosen batch. A new life
// then starts from the committed offsets, as a restarted process would. The end state must equal the
// uninterrupted run's: offers and decisions (each once), windows and rule states. The SIGKILL test
// (crash.test.ts) hits these points only by chance; this one hits each.
//
// The commit protocol is the real one (src/adapters/kafka/exactly-once.ts, with the real publish
// journal in Redis); only Kafka is modelled: a commit appends the batch's messages to their topics
// (the ops topic's partitions, the outputs) and moves the group's committed offset, all or nothing,
// as a Kafka transaction does, and the owners read only what was committed.
import { Redis } from 'ioredis';
import type { TopicMessages } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExactlyOnce, type JournalPort, type TransactionPort } from '../../../src/adapters/kafka/exactly-once.js';
import { createLogger } from '../../../src/ops/logger.js';
import type { FrontierPort } from '../../../src/pipeline/decision-frontier.js';
import { encodeOpRecord } from '../../../src/pipeline/op-records.js';
import { murmur2 } from '../../../src/pipeline/owner-of.js';
import { OwnerStage, type OwnedStatePort, type OwnerLedgerPort } from '../../../src/pipeline/owner-stage.js';
import { RouteStage } from '../../../src/pipeline/route-stage.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { RedisFrontier } from '../../../src/store/redis/frontier.js';
import { RedisKeys } from '../../../src/store/redis/keys.js';
import { RedisPartitionState } from '../../../src/store/redis/partition-state.js';
import { PublishJournal } from '../../../src/store/redis/publish-journal.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { services, uniqueNames } from '../../support/index.js';
import { exampleRules } from '../../support/processor.js';
import { curbsideStream, prng, readWindows, type EndState } from './harness.js';

const FULL = process.env.CPIWATCH_FULL === '1';
const BATCH = 40;
const PARTITIONS = 2;
/** Crash points tried besides those of the batches that decide (all of those with CPIWATCH_FULL=1). */
const SAMPLE = FULL ? Infinity : 40;
const DECIDING_SAMPLE = FULL ? Infinity : 80;
/** Rounds of idle marks after the input: every owner decides what the others' final time allows. */
const MARK_ROUNDS = 3;

class Crash extends Error {}

/** A step of a batch: a call to Redis or Kafka, before or after it ran. */
type Step = `${'before' | 'after'} ${string}`;

/** Wraps the ports; throws Crash at the chosen (batch, step) and records the steps seen. */
class Injector {
  batch = -1;
  seen: Step[] = [];
  crashAt?: { batch: number; step: Step };

  private check(step: Step): void {
    this.seen.push(step);
    if (this.crashAt && this.crashAt.batch === this.batch && this.crashAt.step === step) {
      this.crashAt = undefined;
      throw new Crash(`crash ${step} in batch ${this.batch}`);
    }
  }

  wrap<T extends object>(target: T, name: string, methods: string[]): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const v = Reflect.get(t, prop, receiver) as unknown;
        if (typeof v !== 'function' || !methods.includes(String(prop))) return v;
        return async (...args: unknown[]) => {
          this.check(`before ${name}.${String(prop)}`);
          const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          this.check(`after ${name}.${String(prop)}`);
          return r;
        };
      },
    });
  }
}

interface RunResult { decisions: string[]; offers: string[]; state: Pick<EndState, 'windows' | 'ruleStates'>; steps: Step[][]; crashes: number }

const TOPICS = { offers: 'offers', decisions: 'decisions', deadLetters: 'dlq', ops: 'ops' };

/** Kafka, modelled: partitions as arrays, committed offsets per group, transactions all or nothing. */
class ModelKafka {
  readonly ops: Buffer[][] = Array.from({ length: PARTITIONS }, () => []);
  readonly output: TopicMessages[] = [];
  readonly committed = { route: Array.from({ length: PARTITIONS }, () => 0), owner: Array.from({ length: PARTITIONS }, () => 0) };
  markRounds = 0;

  transactions(group: 'route' | 'owner'): TransactionPort {
    return {
      commit: async (messages, offset) => {
        for (const t of messages) {
          if (t.topic === TOPICS.ops) for (const m of t.messages) this.ops[m.partition!]!.push(Buffer.isBuffer(m.value) ? m.value : Buffer.from(String(m.value)));
          else this.output.push(t);
        }
        this.committed[group][offset.partition] = offset.offset;
      },
      reset: async () => undefined,
    };
  }
}

async function run(input: RawMessage[][], ruleSet: RuleSet, stores: string[], crashAt?: { batch: number; step: Step }): Promise<RunResult> {
  const prefix = uniqueNames('crashpt').keyPrefix.replace(/:$/, '');
  const redis = new Redis(services().redisUrl, { maxRetriesPerRequest: 3 });
  const keys = new RedisKeys(prefix);
  const injector = new Injector();
  if (crashAt) injector.crashAt = crashAt;
  const steps: Step[][] = [];
  const kafka = new ModelKafka();
  const log = createLogger('silent');
  let crashes = 0;
  let batchNo = 0;
  // the watermark each source reaches (its last event's time): the final idle marks carry it on
  const lastTime = input.map((msgs) => Math.max(...msgs.map((m) => Date.parse((JSON.parse(String(m.value)) as { time: string }).time))));
  try {
    const state = injector.wrap<OwnedStatePort>(new RedisPartitionState(redis, keys), 'state', ['claim', 'save', 'readEntities']);
    const ledger = injector.wrap<OwnerLedgerPort>(new RedisStore(redis, prefix), 'ledger', ['decide', 'markPublished']);
    const frontier = injector.wrap<FrontierPort>(new RedisFrontier(redis, keys, TOPICS.ops), 'frontier', ['read', 'write']);
    const journal = injector.wrap<JournalPort>(new PublishJournal(redis, keys), 'journal', ['record', 'read']);
    const routeTx = injector.wrap<TransactionPort>(kafka.transactions('route'), 'kafka', ['commit']);
    const ownerTx = injector.wrap<TransactionPort>(kafka.transactions('owner'), 'kafka', ['commit']);
    const pending = () => input.some((msgs, p) => kafka.committed.route[p]! < msgs.length) || kafka.markRounds < MARK_ROUNDS
      || kafka.ops.some((records, q) => kafka.committed.owner[q]! < records.length);
    while (pending()) {
      // a new life: fresh stages and protocols, every partition assigned anew, reading from the committed offsets
      const route = new RouteStage(ruleSet, { partitions: PARTITIONS, limits: { maxBytes: 1_048_576 }, clock: () => Number.MAX_SAFE_INTEGER, maxFutureMs: 0 });
      const owner = new OwnerStage(ruleSet, { topic: TOPICS.ops, partitions: PARTITIONS, state, ledger, frontier });
      const routeOnce = new ExactlyOnce({ pipeline: route, journal, transactions: routeTx, topics: TOPICS, committedOffset: async (_t, p) => kafka.committed.route[p]!, log });
      const ownerOnce = new ExactlyOnce({ pipeline: owner, journal, transactions: ownerTx, topics: TOPICS, committedOffset: async (_t, p) => kafka.committed.owner[p]!, log });
      const all = Array.from({ length: PARTITIONS }, (_, p) => p);
      routeOnce.assigned('events', all);
      ownerOnce.assigned(TOPICS.ops, all);
      owner.assigned(all);
      const position = { route: [...kafka.committed.route], owner: [...kafka.committed.owner] };
      const step = async (once: ExactlyOnce, group: 'route' | 'owner', topic: string, p: number, messages: RawMessage[]) => {
        injector.batch = batchNo;
        injector.seen = [];
        const first = position[group][p]!;
        const out = await once.process({ topic, partition: p, messages, firstOffset: first, lastOffset: first + messages.length - 1 });
        if (!out.committed) kafka.committed[group][p] = first + messages.length; // the plain offset commit
        steps[batchNo] = injector.seen;
        position[group][p] = first + messages.length;
        batchNo += 1;
      };
      try {
        while (pending()) {
          for (let p = 0; p < PARTITIONS; p++) {
            const batch = input[p]!.slice(position.route[p], position.route[p]! + BATCH);
            if (batch.length > 0) await step(routeOnce, 'route', 'events', p, batch);
          }
          const routed = input.every((msgs, p) => kafka.committed.route[p] === msgs.length);
          const owned = kafka.ops.every((records, q) => kafka.committed.owner[q] === records.length);
          if (routed && owned && kafka.markRounds < MARK_ROUNDS) {
            // caught up and idle: every source marks its owners (plain sends, no transaction), 10 minutes on
            for (let s = 0; s < PARTITIONS; s++) {
              for (let q = 0; q < PARTITIONS; q++) kafka.ops[q]!.push(encodeOpRecord({ source: s, watermark: lastTime[s]! + 600_000, idle: true, events: [], ops: [] }));
            }
            kafka.markRounds += 1;
          }
          for (let q = 0; q < PARTITIONS; q++) {
            const records = kafka.ops[q]!.slice(position.owner[q], position.owner[q]! + BATCH);
            const messages = records.map((value, i) => ({ value: Buffer.from(value), origin: { topic: TOPICS.ops, partition: q, offset: position.owner[q]! + i } }));
            if (messages.length > 0) await step(ownerOnce, 'owner', TOPICS.ops, q, messages);
          }
        }
      } catch (err) {
        if (!(err instanceof Crash)) throw err;
        crashes += 1;
      }
    }
    const windows = await readWindows(services().redisUrl, prefix, stores, ruleSet);
    const values = (topic: string) => kafka.output.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => JSON.parse(String(m.value)) as { id: string; data: { offerId: string; outcome: string; reason?: string; customerId: string } }));
    return {
      decisions: values(TOPICS.decisions).map((d) => `${d.data.offerId} ${d.data.outcome} ${d.data.reason ?? ''} ${d.data.customerId}`),
      offers: values(TOPICS.offers).map((o) => o.id),
      state: windows,
      steps,
      crashes,
    };
  } finally {
    redis.disconnect();
  }
}

describe('crash at each step of a batch of either stage, then redelivery', () => {
  let ruleSet: RuleSet;
  let input: RawMessage[][];
  let stores: string[];
  let reference: RunResult;

  beforeAll(async () => {
    ruleSet = await exampleRules();
    // a fixed start: the same batches decide in every run
    const stream = curbsideStream(3000, 'crashpt', 77, Date.UTC(2026, 0, 15, 9, 0, 0));
    stores = stream.scenario.stores.map((s) => s.storeId);
    // two input partitions by key, as Kafka's default partitioner places them
    input = Array.from({ length: PARTITIONS }, () => []);
    for (const e of stream.scenario.events) {
      const p = (murmur2(Buffer.from(e.key)) & 0x7fffffff) % PARTITIONS;
      const list = input[p]!;
      list.push({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'events', partition: p, offset: list.length } });
    }
    reference = await run(input, ruleSet, stores);
  }, 120_000);

  it('the uninterrupted run makes offers, from both owner partitions', () => {
    expect(reference.offers.length).toBeGreaterThan(5);
    expect(new Set(reference.offers).size).toBe(reference.offers.length);
    expect(input.every((p) => p.length > 0)).toBe(true);
  });

  it('every crash point ends in the same offers, decisions, windows and rule states', async () => {
    // a seeded sample of the steps of the batches that decide or publish, then of the other batches
    const deciding = new Set(reference.steps.flatMap((steps, batch) => (steps.some((s) => /ledger\.decide|markPublished/.test(s)) ? [batch] : [])));
    const points = reference.steps.flatMap((steps, batch) => [...new Set(steps)].map((step) => ({ batch, step, deciding: deciding.has(batch) })));
    const rand = prng(99);
    const shuffled = (list: typeof points) => list.map((p) => ({ p, r: rand() })).sort((a, b) => a.r - b.r).map((x) => x.p);
    const chosen = [...shuffled(points.filter((p) => p.deciding)).slice(0, DECIDING_SAMPLE), ...shuffled(points.filter((p) => !p.deciding)).slice(0, SAMPLE)];
    const failures: string[] = [];
    for (const point of chosen) {
      const got = await run(input, ruleSet, stores, { batch: point.batch, step: point.step });
      expect(got.crashes, `${point.batch} ${point.step}`).toBe(1);
      const problems: string[] = [];
      const dupes = got.offers.filter((id, i) => got.offers.indexOf(id) !== i);
      if (dupes.length > 0) problems.push(`offers published twice: ${dupes.join(', ')}`);
      const missing = reference.offers.filter((id) => !got.offers.includes(id));
      const extra = got.offers.filter((id) => !reference.offers.includes(id));
      if (missing.length + extra.length > 0) problems.push(`offers missing ${missing.length}, extra ${extra.length}`);
      if (JSON.stringify(got.decisions.slice().sort()) !== JSON.stringify(reference.decisions.slice().sort())) problems.push('decisions differ');
      if (JSON.stringify(got.state.windows) !== JSON.stringify(reference.state.windows)) problems.push('windows differ');
      if (JSON.stringify(got.state.ruleStates) !== JSON.stringify(reference.state.ruleStates)) problems.push('rule states differ');
      if (problems.length > 0) failures.push(`batch ${point.batch}, ${point.step}: ${problems.join('; ')}`);
    }
    console.log(`[crash points] ${chosen.length} of ${points.length} crash points tried (${deciding.size} batches decide), ${reference.offers.length} offers`);
    expect(failures).toEqual([]);
  }, FULL ? 3_600_000 : 600_000);
});
