// The error codes raised at the edges (Redis, Kafka) and by the owners, and what each means to the
// consumer (retried, or the input isolated and dead-lettered): docs/errors.md, "Retriable or not".
import { describe, expect, it } from 'vitest';
import { transactionError } from '../../../src/adapters/kafka/kafka-errors.js';
import { CpiwatchError, isPoison, isRetriable } from '../../../src/errors/cpiwatch-error.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { MemoryFrontier } from '../../../src/pipeline/decision-frontier.js';
import { OwnerStage } from '../../../src/pipeline/owner-stage.js';
import { PartitionFencedError } from '../../../src/store/redis/partition-state.js';
import { storeError } from '../../../src/store/redis/store-errors.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { MemoryPartitionState } from '../../../src/store/memory/partition-state.js';
import { exampleRules } from '../../support/processor.js';

/** An ioredis error reply as ioredis builds it. */
const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
/** A kafkajs protocol error wrapped the way kafkajs does after its retries. */
const kafka = (type: string) => Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: Object.assign(new Error(type.toLowerCase()), { name: 'KafkaJSProtocolError', type }) });

describe('Redis failures at the store\'s edge', () => {
  it('a script failing on its arguments is CPW401 (the input is isolated), anything else CPW400 (retried)', () => {
    const script = storeError(reply('ERR user_script:12: attempt to compare number with nil script: 4f2a, on @user_script:12.'), 'decide-offers');
    expect(script).toMatchObject({ code: 'CPW401', retriable: false });
    expect(isPoison(script)).toBe(true);
    for (const transient of [reply('LOADING Redis is loading the dataset in memory'), reply('NOPERM this user has no permissions to run the \'evalsha\' command'), reply('OOM command not allowed when used memory > \'maxmemory\''), new Error('connect ECONNREFUSED 127.0.0.1:6379'), Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })]) {
      const e = storeError(transient, 'save-partition');
      expect(e).toMatchObject({ code: 'CPW400', retriable: true });
      expect(isPoison(e)).toBe(false);
    }
  });

  it('a fenced save stays itself (the owner claims the partition again)', () => {
    const fenced = new PartitionFencedError('ops:0', 3, 4);
    expect(storeError(fenced, 'save-partition')).toBe(fenced);
    expect(isRetriable(fenced)).toBe(true);
  });
});

describe('Kafka failures at the producer\'s edge', () => {
  const topics = { offersTopic: 'offers' };
  it('a refused record is CPW604 (the input is isolated); otherwise by what the transaction carried, retried', () => {
    expect(transactionError(kafka('MESSAGE_TOO_LARGE'), { offers: 3, deadLetters: 0, ...topics })).toMatchObject({ code: 'CPW604', retriable: false });
    expect(transactionError(kafka('INVALID_RECORD'), { offers: 0, deadLetters: 1, ...topics })).toMatchObject({ code: 'CPW604' });
    expect(transactionError(kafka('NOT_LEADER_FOR_PARTITION'), { offers: 3, deadLetters: 1, ...topics })).toMatchObject({ code: 'CPW500', retriable: true });
    expect(transactionError(kafka('REQUEST_TIMED_OUT'), { offers: 0, deadLetters: 2, ...topics })).toMatchObject({ code: 'CPW601', retriable: true });
    expect(transactionError(new Error('Connection error: connect ECONNREFUSED'), { offers: 0, deadLetters: 0, ...topics })).toMatchObject({ code: 'CPW600', retriable: true });
    const offers = transactionError(kafka('NOT_ENOUGH_REPLICAS'), { offers: 3, deadLetters: 0, ...topics }) as CpiwatchError;
    expect(offers.message).toMatch(/^CPW500 could not publish 3 decision\(s\) to offers: /);
  });
});

describe('what halts and what is isolated', () => {
  it('CPW402 (state lost) is not retriable, and not the input\'s fault: nothing is dead-lettered for it', () => {
    const lost = new CpiwatchError('STATE_LOST', ['the state marker disappeared']);
    expect(isRetriable(lost)).toBe(false);
    expect(isPoison(lost)).toBe(false);
    expect(isPoison(new CpiwatchError('PROCESSING_FAILED', ['ops:0 offsets 1..2', 'x']))).toBe(true);
  });

  it('an ops record the owners cannot read is dead-lettered with CPW603; the records around it are applied', async () => {
    const owner = new OwnerStage(await exampleRules(), { topic: 'ops', partitions: 1, state: new MemoryPartitionState(), ledger: new MemoryStore(), frontier: new MemoryFrontier() });
    const sink = new CollectingSink();
    const mark = (watermark: number) => Buffer.from(JSON.stringify({ v: 1, source: 0, watermark, idle: false, events: [], ops: [] }));
    const result = await owner.processBatch([
      { value: mark(1000), origin: { topic: 'ops', partition: 0, offset: 0 } },
      { value: Buffer.from('{"v":99,"garbage":'), origin: { topic: 'ops', partition: 0, offset: 1 } },
      { value: mark(2000), origin: { topic: 'ops', partition: 0, offset: 2 } },
    ], 'ops:0', { sink });
    expect(result.deadLetters.map((d) => [d.code, d.message.origin.offset])).toEqual([['CPW603', 1]]);
    expect(sink.deadLetters).toHaveLength(1);
    expect(owner.streamTimes().get(0)).not.toBeNull();
  });
});
