// Exit 0 when the Kafka broker at argv[2] (host:port[,host:port]) answers a metadata request,
// 1 otherwise. Used by scripts/stack.sh to wait for the broker; quiet on purpose.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const brokers = (process.argv[2] ?? '127.0.0.1:19092').split(',');
const kafka = new Kafka({
  clientId: 'cpiwatch-stack-ready',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 4000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
const timer = setTimeout(() => process.exit(1), 8000);
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.fetchTopicMetadata({ topics: [] });
  if (cluster.brokers.length === 0) throw new Error('no brokers in metadata');
  await admin.disconnect();
  clearTimeout(timer);
  process.exit(0);
} catch {
  process.exit(1);
}
