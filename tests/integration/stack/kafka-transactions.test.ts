// The real broker: a transactional producer (send + sendOffsets + commit / abort), read back by
// a read_committed consumer: the building block of exactly-once offers.
import { describe, expect, it } from 'vitest';
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
});
