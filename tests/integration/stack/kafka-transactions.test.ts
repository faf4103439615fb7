// The real broker: a transactional producer (send + sendOffsets + commit / abort), read back by
// a read_committed consumer: the building block of exactly-once offers.
import { describe, expect, it } from 'vitest';
import { readCommittedIsSafe } from '../../../src/adapters/kafka/read-committed.js';
import { createTopic, kafkaClient, produce, uniqueNames, waitForMessages } from '../../support/index.js';

describe('Kafka transactions (real broker)', () => {
  it('commits output and consumer offsets atomically, hides aborted writes', async () => {
    const names = uniqueNames('tx');
    const input = await createTopic(names.topicFor('in'));
    const output = await createTopic(names.topicFor('out'));
    await produce(input, ['a', 'b', 'c']);

    const kafka = kafkaClient(names.clientId);
    const producer = kafka.producer({ transactionalId: names.transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const tx = await producer.transaction();
      await tx.send({ topic: output, messages: [{ key: 'k', value: 'offer-1' }, { key: 'k', value: 'offer-2' }] });
      await tx.sendOffsets({ consumerGroupId: names.group, topics: [{ topic: input, partitions: [{ partition: 0, offset: '3' }] }] });
      await tx.commit();

      const aborted = await producer.transaction();
      await aborted.send({ topic: output, messages: [{ key: 'k', value: 'never-visible' }] });
      await aborted.abort();

      const tx3 = await producer.transaction();
      await tx3.send({ topic: output, messages: [{ key: 'k', value: 'offer-3' }] });
      await tx3.commit();
    } finally {
      await producer.disconnect();
    }

    const committed = await waitForMessages(output, 3, { settleMs: 500 });
    expect(committed.map((m) => m.value)).toEqual(['offer-1', 'offer-2', 'offer-3']);
    const uncommitted = await waitForMessages(output, 4, { readUncommitted: true });
    expect(uncommitted.map((m) => m.value)).toContain('never-visible');

    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: names.group, topics: [input] });
    await admin.disconnect();
    expect(offsets!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '3' })]);
  });

  it('hides two overlapping aborted transactions whose aborts come in the other order (kafkajs alone shows the first)', async () => {
    // what two crashed processes leave behind: transactions that overlap in a partition, aborted by
    // the coordinator in any order. The broker lists a fetch's aborted transactions in the order of
    // their markers; kafkajs 2.2.4 reads that list as if sorted by first offset
    expect(readCommittedIsSafe()).toBe(true);
    const names = uniqueNames('tx-overlap');
    const output = await createTopic(names.topicFor('out'));
    const kafka = kafkaClient(names.clientId);
    const first = kafka.producer({ transactionalId: `${names.transactionalId}-1`, idempotent: true, maxInFlightRequests: 1 });
    const second = kafka.producer({ transactionalId: `${names.transactionalId}-2`, idempotent: true, maxInFlightRequests: 1 });
    const third = kafka.producer({ transactionalId: `${names.transactionalId}-3`, idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([first.connect(), second.connect(), third.connect()]);
    try {
      const a = await first.transaction();
      await a.send({ topic: output, messages: [{ value: 'aborted-a1' }, { value: 'aborted-a2' }] });
      const b = await second.transaction();
      await b.send({ topic: output, messages: [{ value: 'aborted-b1' }] });
      await b.abort(); // began second, aborted first
      await a.send({ topic: output, messages: [{ value: 'aborted-a3' }] });
      await a.abort();
      const c = await third.transaction();
      await c.send({ topic: output, messages: [{ value: 'committed-c1' }] });
      await c.commit();
    } finally {
      await Promise.all([first.disconnect(), second.disconnect(), third.disconnect()]);
    }
    const uncommitted = await waitForMessages(output, 5, { readUncommitted: true });
    expect(uncommitted.map((m) => m.value)).toEqual(['aborted-a1', 'aborted-a2', 'aborted-b1', 'aborted-a3', 'committed-c1']);
    const committed = await waitForMessages(output, 1, { settleMs: 1000 });
    expect(committed.map((m) => m.value)).toEqual(['committed-c1']);
  });
});
