// Crash at every step of a batch, deterministically: the pipeline on the real Redis store is
// "killed" (an exception thrown, the Pipeline object thrown away) just before or just after each
// store and sink call of a batch that changes something (windows, rule states, decisions, offers),
// then a new Pipeline redelivers from the last committed offset, as a restarted process would.
// The end state must equal the uninterrupted run's: offers and decisions (each once), windows and
// rule states. The SIGKILL test (crash.test.ts) hits these points only by chance; this one hits each.
//
// The commit protocol is the real one (src/adapters/kafka/exactly-once.ts, with the real publish
// journal in Redis); only Kafka's transaction is modelled: a commit appends the batch's messages to
// the output and moves the committed offset, all or nothing, as a Kafka transaction does.
import { Redis } from 'ioredis';
import type { TopicMessages } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExactlyOnce, type JournalPort, type TransactionPort } from '../../../src/adapters/kafka/exactly-once.js';
import { createLogger } from '../../../src/ops/logger.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { PublishJournal } from '../../../src/store/redis/publish-journal.js';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import type { StateStore } from '../../../src/store/state-store.js';
import { services, uniqueNames } from '../../support/index.js';
import { exampleRules } from '../../support/processor.js';
import { curbsideStream, prng, readWindows, type EndState } from './harness.js';

const FULL = process.env.CPIWATCH_FULL === '1';
const BATCH = 40;
const MAX_EXPERIMENTS = FULL ? Infinity : 60;

class Crash extends Error {}

/** A step of a batch: a store or sink method, before or after it ran. */
type Step = `${'before' | 'after'} ${string}`;

/** Wraps the store and the sink; throws Crash at the chosen (batch, step) and records the steps seen. */
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

const TOPICS = { offers: 'offers', decisions: 'decisions', deadLetters: 'dlq' };

async function run(messages: RawMessage[], ruleSet: RuleSet, stores: string[], crashAt?: { batch: number; step: Step }): Promise<RunResult> {
  const prefix = uniqueNames('crashpt').keyPrefix.replace(/:$/, '');
  const redis = new Redis(services().redisUrl, { maxRetriesPerRequest: 3 });
  const injector = new Injector();
  if (crashAt) injector.crashAt = crashAt;
  const steps: Step[][] = [];
  let crashes = 0;
  // Kafka, modelled: the committed consumer offset and the committed output (read committed)
  let committed = 0;
  const output: TopicMessages[] = [];
  const kafkaTx: TransactionPort = {
    async commit(msgs, offset) {
      output.push(...msgs);
      committed = offset.offset;
    },
    async reset() {},
  };
  try {
    const rawStore = new RedisStore(redis, prefix);
    const store = injector.wrap<StateStore>(rawStore, 'store', ['applyOps', 'saveRuleStates', 'readAudience', 'readFacts', 'decide', 'markPublished']);
    const journal = injector.wrap<JournalPort>(new PublishJournal(redis, rawStore.keys), 'journal', ['record', 'read']);
    const transactions = injector.wrap<TransactionPort>(kafkaTx, 'kafka', ['commit']);
    let batchNo = 0;
    while (committed < messages.length) {
      // a restart: a fresh pipeline and protocol (they keep nothing of their own between batches),
      // the partition assigned anew, consumption from the committed offset
      const pipeline = new Pipeline({ store, sink: new CollectingSink(), clock: () => Number.MAX_SAFE_INTEGER }, ruleSet);
      const eo = new ExactlyOnce({ pipeline, journal, transactions, topics: TOPICS, committedOffset: async () => committed, log: createLogger('silent') });
      eo.assigned('events', [0]);
      let position = committed;
      try {
        while (position < messages.length) {
          injector.batch = batchNo;
          injector.seen = [];
          const batch = messages.slice(position, position + BATCH);
          const out = await eo.process({ topic: 'events', partition: 0, messages: batch, firstOffset: position, lastOffset: position + batch.length - 1 });
          if (out !== 'committed-earlier' && !out.committed) committed = position + batch.length; // the plain offset commit
          steps[batchNo] = injector.seen;
          position += batch.length;
          batchNo += 1;
        }
      } catch (err) {
        if (!(err instanceof Crash)) throw err;
        crashes += 1;
        // batch numbers follow offsets: the redelivered batch is the one that crashed
        batchNo = Math.floor(committed / BATCH);
      }
    }
    const state = await readWindows(services().redisUrl, prefix, stores, ruleSet);
    const values = (topic: string) => output.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => JSON.parse(String(m.value)) as { id: string; data: { offerId: string; outcome: string; reason?: string; customerId: string; decidedAt?: string } }));
    return {
      decisions: values(TOPICS.decisions).map((d) => `${d.data.offerId} ${d.data.outcome} ${d.data.reason ?? ''} ${d.data.customerId}`),
      offers: values(TOPICS.offers).map((o) => o.id),
      state,
      steps,
      crashes,
    };
  } finally {
    redis.disconnect();
  }
}

describe('crash at each step of a batch, then redelivery', () => {
  let ruleSet: RuleSet;
  let messages: RawMessage[];
  let stores: string[];
  let reference: RunResult;

  beforeAll(async () => {
    ruleSet = await exampleRules();
    // a fixed start: the same batches decide in every run (the pipeline's clock never rejects)
    const stream = curbsideStream(3000, 'crashpt', 77, Date.UTC(2026, 0, 15, 9, 0, 0));
    stores = stream.scenario.stores.map((s) => s.storeId);
    messages = stream.scenario.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'events', partition: 0, offset: i } }));
    reference = await run(messages, ruleSet, stores);
  }, 120_000);

  it('the uninterrupted run makes offers', () => {
    expect(reference.offers.length).toBeGreaterThan(5);
    expect(new Set(reference.offers).size).toBe(reference.offers.length);
  });

  it('every crash point ends in the same offers, decisions, windows and rule states', async () => {
    // every step of the batches that decide or publish; then a seeded sample of the steps of the
    // batches that only update windows and save rule states
    const deciding = reference.steps.flatMap((steps, batch) => (steps.some((s) => /decide|publish/.test(s)) ? [batch] : []));
    const points = reference.steps.flatMap((steps, batch) => steps.map((step) => ({ batch, step, deciding: deciding.includes(batch) })));
    const rand = prng(99);
    const first = points.filter((p) => p.deciding);
    const others = points.filter((p) => !p.deciding).map((p) => ({ p, r: rand() })).sort((a, b) => a.r - b.r).map((x) => x.p);
    const chosen = [...first, ...others].slice(0, Math.max(first.length, MAX_EXPERIMENTS));
    const failures: string[] = [];
    for (const point of chosen) {
      const got = await run(messages, ruleSet, stores, { batch: point.batch, step: point.step });
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
    console.log(`[crash points] ${chosen.length} of ${points.length} crash points tried (all ${first.length} of the ${deciding.length} batches that decide)`);
    expect(failures).toEqual([]);
  }, FULL ? 1_800_000 : 300_000);
});
