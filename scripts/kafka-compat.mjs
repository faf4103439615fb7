#!/usr/bin/env node
// Checks that kafkajs (the version in node_modules) works against a running Kafka broker for
// everything cpiwatch uses. Used to choose the Kafka version pinned in scripts/kafka/pom.xml
// (evidence in docs/stack.md). Usage:
//   node scripts/kafka-compat.mjs [brokers]      (default: $KAFKA_BROKERS or 127.0.0.1:19092)
// Prints one line per check and exits 1 if any failed.
import kafkajs from 'kafkajs';
import { randomUUID } from 'node:crypto';

const { Kafka, logLevel } = kafkajs;
const brokers = (process.argv[2] ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const run = randomUUID().slice(0, 8);
const kafka = new Kafka({
  clientId: `compat-${run}`,
  brokers,
  logLevel: process.env.COMPAT_DEBUG ? logLevel.INFO : logLevel.NOTHING,
  retry: { retries: 5 },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`timeout after ${ms} ms: ${what}`)))]);
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await withTimeout(fn(), 60_000, name);
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push({ name, ok: false, ms: Date.now() - t0, error: String(err?.message ?? err) });
    console.log(`FAIL ${name} (${Date.now() - t0} ms): ${err?.name ?? ''} ${err?.message ?? err}`);
    if (process.env.COMPAT_DEBUG) console.log(err);
  }
}

const admin = kafka.admin();
const topic = `compat-${run}`;
const outTopic = `compat-out-${run}`;
const cleanups = [];

await check('admin.connect + describeCluster', async () => {
  await admin.connect();
  const c = await admin.describeCluster();
  if (c.brokers.length < 1) throw new Error('no brokers');
});

await check('admin.createTopics (3 partitions, waitForLeaders)', async () => {
  const created = await admin.createTopics({
    topics: [
      { topic, numPartitions: 3, replicationFactor: 1 },
      { topic: outTopic, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  if (!created) throw new Error('createTopics returned false');
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  if (md.topics[0].partitions.length !== 3) throw new Error('expected 3 partitions');
});

await check('idempotent producer, acks -1', async () => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const md = await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, value: `m${i}`, partition: i % 3 })),
  });
  if (md.length === 0 || md.some((m) => m.errorCode !== 0)) throw new Error(JSON.stringify(md));
  await producer.disconnect();
});

await check('consumer group: 2 members join, rebalance when one leaves', async () => {
  const groupId = `compat-g1-${run}`;
  const assignments = { a: [], b: [] };
  const mk = (name) => {
    const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
    c.on(c.events.GROUP_JOIN, (e) => assignments[name].push((e.payload.memberAssignment[topic] ?? []).slice().sort()));
    return c;
  };
  const a = mk('a');
  const b = mk('b');
  await a.connect();
  await a.subscribe({ topics: [topic], fromBeginning: true });
  await a.run({ eachMessage: async () => {} });
  await until(() => assignments.a.length >= 1, 30_000, 'member a to join');
  await b.connect();
  await b.subscribe({ topics: [topic], fromBeginning: true });
  await b.run({ eachMessage: async () => {} });
  await until(
    () => {
      const la = assignments.a.at(-1) ?? [];
      const lb = assignments.b.at(-1) ?? [];
      return la.length > 0 && lb.length > 0 && la.length + lb.length === 3;
    },
    30_000,
    'partitions to be split between a and b',
  );
  await b.disconnect();
  await until(() => (assignments.a.at(-1) ?? []).length === 3, 30_000, 'a to get all 3 partitions after b left');
  await a.disconnect();
});

await check('manual offset commit, new consumer resumes from committed offset', async () => {
  const groupId = `compat-g2-${run}`;
  const seen = [];
  const c1 = kafka.consumer({ groupId, heartbeatInterval: 500 });
  await c1.connect();
  await c1.subscribe({ topics: [topic], fromBeginning: true });
  await c1.run({
    autoCommit: false,
    eachMessage: async ({ topic: t, partition, message }) => {
      seen.push(message.value.toString());
      await c1.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    },
  });
  await until(() => seen.length >= 30, 30_000, '30 messages');
  await c1.disconnect();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
  if (committed !== 30) throw new Error(`committed sum ${committed}, expected 30`);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: 'after-1', partition: 0 }, { value: 'after-2', partition: 1 }] });
  await producer.disconnect();
  const seen2 = [];
  const c2 = kafka.consumer({ groupId, heartbeatInterval: 500 });
  await c2.connect();
  await c2.subscribe({ topics: [topic], fromBeginning: true });
  await c2.run({ eachMessage: async ({ message }) => void seen2.push(message.value.toString()) });
  await until(() => seen2.length >= 2, 30_000, 'the 2 new messages');
  await sleep(1000);
  await c2.disconnect();
  if (seen2.length !== 2 || !seen2.includes('after-1') || !seen2.includes('after-2'))
    throw new Error(`resumed consumer saw ${JSON.stringify(seen2)}`);
});

await check('transactions: send + sendOffsets + commit, abort; read_committed consumer', async () => {
  const groupId = `compat-g3-${run}`;
  const producer = kafka.producer({ transactionalId: `compat-tx-${run}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const tx = await producer.transaction();
  await tx.send({ topic: outTopic, messages: [{ key: 'c', value: 'committed-1' }, { key: 'c', value: 'committed-2' }] });
  await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '5' }] }] });
  await tx.commit();
  const tx2 = await producer.transaction();
  await tx2.send({ topic: outTopic, messages: [{ key: 'a', value: 'aborted-1' }] });
  await tx2.abort();
  const tx3 = await producer.transaction();
  await tx3.send({ topic: outTopic, messages: [{ key: 'c', value: 'committed-3' }] });
  await tx3.commit();
  await producer.disconnect();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const p0 = offsets[0].partitions.find((p) => p.partition === 0);
  if (p0?.offset !== '5') throw new Error(`sendOffsets: committed offset ${p0?.offset}, expected 5`);
  const seen = [];
  const c = kafka.consumer({ groupId: `compat-g4-${run}`, readUncommitted: false, heartbeatInterval: 500 });
  await c.connect();
  await c.subscribe({ topics: [outTopic], fromBeginning: true });
  await c.run({ eachMessage: async ({ message }) => void seen.push(message.value.toString()) });
  await until(() => seen.length >= 3, 30_000, '3 committed messages');
  await sleep(1000);
  await c.disconnect();
  if (JSON.stringify(seen) !== JSON.stringify(['committed-1', 'committed-2', 'committed-3']))
    throw new Error(`read_committed consumer saw ${JSON.stringify(seen)}`);
});

await check('admin offsets: fetchTopicOffsets, ByTimestamp, setOffsets, resetOffsets', async () => {
  const offsets = await admin.fetchTopicOffsets(topic);
  if (offsets.length !== 3 || offsets.some((o) => Number(o.high) < 10)) throw new Error(JSON.stringify(offsets));
  const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 3_600_000);
  if (byTs.length !== 3 || byTs.some((o) => o.offset !== '0')) throw new Error(`by timestamp: ${JSON.stringify(byTs)}`);
  const groupId = `compat-g5-${run}`;
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] });
  let f = await admin.fetchOffsets({ groupId, topics: [topic] });
  if (f[0].partitions.find((p) => p.partition === 0).offset !== '2') throw new Error(`setOffsets: ${JSON.stringify(f)}`);
  await admin.resetOffsets({ groupId, topic, earliest: true });
  f = await admin.fetchOffsets({ groupId, topics: [topic] });
  // kafkajs commits the sentinel -2 (earliest) for resetOffsets({ earliest: true }) by design
  if (f[0].partitions.some((p) => p.offset !== '0' && p.offset !== '-2')) throw new Error(`resetOffsets: ${JSON.stringify(f)}`);
});

await check('admin groups: listGroups, describeGroups, deleteGroups', async () => {
  const groupId = `compat-g6-${run}`;
  const c = kafka.consumer({ groupId, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  let joined = false;
  c.on(c.events.GROUP_JOIN, () => (joined = true));
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({ autoCommit: true, eachMessage: async () => {} });
  await until(() => joined, 30_000, 'join');
  const { groups } = await admin.listGroups();
  if (!groups.some((g) => g.groupId === groupId)) throw new Error('listGroups misses the group');
  const d = await admin.describeGroups([groupId]);
  if (d.groups[0].state !== 'Stable' || d.groups[0].members.length !== 1) throw new Error(`describeGroups: ${JSON.stringify(d.groups[0])}`);
  const own = await c.describeGroup();
  if (own.members.length !== 1) throw new Error('consumer.describeGroup');
  await c.disconnect();
  await admin.deleteGroups([groupId]);
});

await check('consumer seek, pause/resume; gzip producer; auto-created topic', async () => {
  const auto = `compat-auto-${run}`;
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic: auto, compression: kafkajs.CompressionTypes.GZIP, messages: [0, 1, 2, 3, 4].map((i) => ({ value: `g${i}` })) });
  await producer.disconnect();
  const seen = [];
  let seeked = false;
  const c = kafka.consumer({ groupId: `compat-g7-${run}`, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [auto], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value.toString());
      if (!seeked && seen.length === 5) {
        seeked = true;
        c.pause([{ topic: auto }]);
        c.seek({ topic: auto, partition: 0, offset: '3' });
        setTimeout(() => c.resume([{ topic: auto }]), 300);
      }
    },
  });
  await until(() => seen.length >= 7, 30_000, '5 messages then 2 after seek');
  await c.disconnect();
  if (seen.slice(0, 7).join() !== 'g0,g1,g2,g3,g4,g3,g4') throw new Error(`saw ${seen.join()}`);
  await admin.deleteTopics({ topics: [auto] });
});

await check('admin configs and partitions: describeConfigs, alterConfigs, createPartitions', async () => {
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: outTopic, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
  });
  const d = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: outTopic, configNames: ['retention.ms'] }] });
  const v = d.resources[0].configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
  if (v !== '3600000') throw new Error(`retention.ms = ${v}`);
  await admin.createPartitions({ topicPartitions: [{ topic: outTopic, count: 2 }] });
  const md = await admin.fetchTopicMetadata({ topics: [outTopic] });
  if (md.topics[0].partitions.length !== 2) throw new Error('createPartitions');
});

await check('admin.deleteTopics', async () => {
  await admin.deleteTopics({ topics: [topic, outTopic], timeout: 10_000 });
});

for (const fn of cleanups) await fn().catch(() => {});
await admin.disconnect().catch(() => {});
const failed = results.filter((r) => !r.ok);
console.log(`${results.length - failed.length}/${results.length} checks passed against ${brokers.join(',')}`);
process.exit(failed.length ? 1 : 0);
