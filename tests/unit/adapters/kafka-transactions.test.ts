// KafkaTransactions (src/adapters/kafka/kafka-transactions.ts): the producer is replaced by a reset
// (a new epoch after a failed commit) and taken away by a disconnect, while transactions run. At the
// 1M-event backlog a batch once failed with `TypeError: Cannot read properties of undefined (reading
// 'transaction')`: the producer was gone between a transaction's connect and its begin. Now every
// connect, transaction, reset and disconnect takes the producer's lane in turn, and a transaction
// uses the producer it connected. The producers are fakes whose every call takes a few milliseconds,
// so the calls interleave at every await; a call on a producer that is not connected is recorded
// (the earlier code ran a late commit on the producer its disconnect was closing).
import type { Kafka, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaTransactions } from '../../../src/adapters/kafka/kafka-transactions.js';
import { createLogger } from '../../../src/ops/logger.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeKafka() {
  const misuse: string[] = [];
  let committed = 0;
  let epochs = 0;
  let calls = 0;
  const producer = (): Producer => {
    let state: 'new' | 'connected' | 'gone' = 'new';
    const use = (what: string) => { if (state !== 'connected') misuse.push(`${what} on a ${state} producer`); };
    return {
      connect: async () => { await tick(3); if (state === 'new') { state = 'connected'; epochs += 1; } },
      disconnect: async () => { await tick(2); state = 'gone'; },
      transaction: async () => {
        use('transaction');
        await tick(1);
        let active = true;
        return {
          sendBatch: async () => { use('sendBatch'); await tick(2); },
          sendOffsets: async () => { use('sendOffsets'); await tick(1); },
          // every third commit fails (a broker answer the caller resets the producer on)
          commit: async () => {
            use('commit');
            await tick(1);
            active = false;
            if (++calls % 3 === 0) throw new Error('EndTxn: NOT_COORDINATOR');
            committed += 1;
          },
          abort: async () => { active = false; },
          isActive: () => active,
        };
      },
    } as unknown as Producer;
  };
  const kafka = {
    producer,
    admin: () => ({ connect: async () => undefined, disconnect: async () => undefined, describeConfigs: async () => ({ resources: [] }) }),
  } as unknown as Kafka;
  return { kafka, misuse, committed: () => committed, epochs: () => epochs };
}

describe('transactions and resets of one producer', () => {
  it('never overlap: a reset waits for the transaction in flight, a transaction for the reset', async () => {
    const f = fakeKafka();
    const tx = new KafkaTransactions(f.kafka, { transactionalId: 't', groupId: 'g', transactionTimeoutMs: 10_000, log: createLogger('silent') });
    const resets: Promise<void>[] = [];
    const failures: string[] = [];
    // as the exactly-once protocol does: a failed commit resets the producer at once (while the
    // commits of other partitions wait for the next transaction)
    const commit = (i: number) => tx.commit([{ topic: 'out', messages: [{ key: null, value: `m${i}` }] }], { topic: 'in', partition: i % 4, offset: i + 1 })
      .catch((err: Error) => { failures.push(err.message); resets.push(tx.reset()); });
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      commits.push(commit(i));
      await tick(i % 4);
    }
    await Promise.all(commits);
    await Promise.all(resets);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.filter((m) => !m.includes('NOT_COORDINATOR'))).toEqual([]);
    expect(f.misuse).toEqual([]);
    expect(f.committed()).toBeGreaterThan(0);
    expect(f.epochs()).toBeGreaterThan(1); // the resets did take new epochs
    await tx.disconnect();
  });

  it('a commit that arrives while the producer disconnects fails cleanly or lands, never on a producer taken away', async () => {
    const f = fakeKafka();
    const tx = new KafkaTransactions(f.kafka, { transactionalId: 't', groupId: 'g', transactionTimeoutMs: 10_000, log: createLogger('silent') });
    await tx.connect();
    const stopping = tx.disconnect();
    const late = await tx.commit([{ topic: 'out', messages: [{ key: null, value: 'late' }] }], { topic: 'in', partition: 0, offset: 1 }).then(() => 'landed', (err: Error) => err.message);
    await stopping;
    expect(late).not.toMatch(/TypeError|Cannot read properties/);
    expect(f.misuse).toEqual([]);
  });
});
