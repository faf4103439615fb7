// The e-mail channel of a test: an EmailWorker on its own offers topic and consumer group, the real
// Redis as its offer ledger, and an in-process SMTP server; what became of each record and every
// log line are kept. `stop()` undoes it all.
import { Writable } from 'node:stream';
import nodemailer from 'nodemailer';
import { EmailWorker, type EmailResult, type EmailWorkerOptions } from '../../src/adapters/smtp/email-worker.js';
import { createLogger } from '../../src/ops/logger.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { createTopic, kafkaClient } from './kafka.js';
import { uniqueNames } from './names.js';
import { deleteKeys, redisClient } from './redis.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

export interface EmailChannel {
  topic: string;
  store: RedisStore;
  smtp: TestSmtpServer;
  results: EmailResult[];
  logLines: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startEmailChannel(label: string, options: Pick<EmailWorkerOptions, 'facts' | 'emailActions' | 'templates'>): Promise<EmailChannel> {
  const n = uniqueNames(label);
  const topic = n.topicFor('offers');
  const prefix = n.keyPrefix.replace(/:$/, '');
  const redis = redisClient();
  const store = new RedisStore(redis, prefix);
  const results: EmailResult[] = [];
  const logLines: Record<string, unknown>[] = [];
  await createTopic(topic);
  const smtp = await startSmtpServer();
  const transport = nodemailer.createTransport(smtp.url);
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) logLines.push(JSON.parse(l)); done(); } });
  const worker = new EmailWorker({
    kafka: kafkaClient(), groupId: n.group, offersTopic: topic, transport, from: 'offers@example.com', store,
    log: createLogger('info', sink), maxAttempts: 3, onResult: (r) => results.push(r), retry: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  await worker.start();
  return {
    topic, store, smtp, results, logLines,
    async stop() {
      await worker.stop();
      transport.close();
      await smtp.stop();
      await deleteKeys(redis, `{${prefix}:`);
      await redis.quit();
    },
  };
}
