// The real broker: produce, consume with a consumer group, commit offsets, and a new member of
// the same group resumes after the committed offsets.
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { createTopic, kafkaClient, produce, services, servicesSource, uniqueNames, waitFor, waitForMessages } from '../../support/index.js';

describe('Kafka consumer group with committed offsets (real broker)', () => {
  const consumers: Consumer[] = [];
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)));
  });

  it('consumes, commits, and a new consumer in the group resumes after the committed offsets', async () => {
    const names = uniqueNames('group-commit');
    expect(services().kafkaBrokers.length).toBeGreaterThan(0);
    console.log(`services: ${servicesSource()}`);
    await createTopic(names.topic, { partitions: 2 });
    await produce(
      names.topic,
      Array.from({ length: 10 }, (_, i) => ({ key: `store-${i % 2}`, value: { n: i }, partition: i % 2 })),
    );

    const kafka = kafkaClient(names.clientId);
    const first = kafka.consumer({ groupId: names.group, maxWaitTimeInMs: 100, heartbeatInterval: 500 });
    consumers.push(first);
    const seen: number[] = [];
    await first.connect();
    await first.subscribe({ topics: [names.topic], fromBeginning: true });
    await first.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        seen.push((JSON.parse(message.value!.toString()) as { n: number }).n);
        await first.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    await waitFor(() => seen.length >= 10, { what: '10 messages in the first consumer' });
    await first.disconnect();
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: names.group, topics: [names.topic] });
    await admin.disconnect();
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '5'],
      [1, '5'],
    ]);

    await produce(names.topic, [
      { key: 'store-0', value: { n: 10 }, partition: 0 },
      { key: 'store-1', value: { n: 11 }, partition: 1 },
    ]);
    const second = kafka.consumer({ groupId: names.group, maxWaitTimeInMs: 100, heartbeatInterval: 500 });
    consumers.push(second);
    const resumed: number[] = [];
    await second.connect();
    await second.subscribe({ topics: [names.topic], fromBeginning: true });
    await second.run({
      eachMessage: async ({ message }) => {
        resumed.push((JSON.parse(message.value!.toString()) as { n: number }).n);
      },
    });
    await waitFor(() => resumed.length >= 2, { what: 'the 2 new messages in the second consumer' });
    // nothing before the committed offsets may come back
    await new Promise((r) => setTimeout(r, 500));
    expect([...resumed].sort((a, b) => a - b)).toEqual([10, 11]);

    // and the topic as a whole holds all 12, readable without touching the group
    const all = await waitForMessages(names.topic, 12);
    expect(all).toHaveLength(12);
    expect(all.every((m) => m.key?.startsWith('store-'))).toBe(true);
  });
});
