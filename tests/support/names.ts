// Unique names so test files can run in parallel and re-run without cleanup.
import { randomBytes } from 'node:crypto';

let counter = 0;

/** A short id unique across processes and runs: <label>-<pid36>-<time36>-<rand>-<n>. Only
 * characters legal in Kafka topic names, consumer group ids and Redis keys. */
export function uniqueId(label = 't'): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 40) || 't';
  return `${clean}-${process.pid.toString(36)}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-${(counter++).toString(36)}`;
}

export interface TestNames {
  id: string;
  /** Kafka topic (prefix "test.") */
  topic: string;
  /** Kafka consumer group id */
  group: string;
  /** Redis key prefix, ends with ":" */
  keyPrefix: string;
  /** Kafka client id */
  clientId: string;
  /** Kafka transactional id */
  transactionalId: string;
  /** another unique topic name, e.g. topic("out") */
  topicFor(suffix: string): string;
}

/** All the names one test needs, derived from one unique id. */
export function uniqueNames(label = 'test'): TestNames {
  const id = uniqueId(label);
  return {
    id,
    topic: `test.${id}`,
    group: `test-group.${id}`,
    keyPrefix: `test:${id}:`,
    clientId: `test-client.${id}`,
    transactionalId: `test-tx.${id}`,
    topicFor: (suffix: string) => `test.${id}.${suffix.replace(/[^a-zA-Z0-9._-]+/g, '-')}`,
  };
}
