// Runs a real cpiwatch Processor in-process against the test run's Kafka and Redis, with unique
// topics, consumer groups and Redis key prefix, so test files can run in parallel.
import { Processor } from '../../src/app/processor.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { createLogger } from '../../src/ops/logger.js';
import type { RuleSet } from '../../src/rules/compiled.js';
import { loadRuleSet } from '../../src/rules/load.js';
import { tagOf } from '../../src/cpis/tags.js';
import { ownerOf } from '../../src/pipeline/owner-of.js';
import { createTopic } from './kafka.js';
import { uniqueNames } from './names.js';
import { services } from './services.js';

export interface ProcessorTopics { events: string; offers: string; decisions: string; dlq: string }

export interface RunningProcessor {
  processor: Processor;
  settings: Settings;
  topics: ProcessorTopics;
  stop(): Promise<void>;
}

export async function exampleRules(paths = ['rules']): Promise<RuleSet> {
  const loaded = await loadRuleSet(paths);
  if (!loaded.ok) throw new Error(`rules invalid: ${JSON.stringify(loaded.errors, null, 1)}`);
  return loaded.ruleSet;
}

/** Unique settings for one test: its own topics, groups and Redis prefix; `env` overrides. */
export function testSettings(label: string, env: Record<string, string> = {}): { settings: Settings; topics: ProcessorTopics } {
  const n = uniqueNames(label);
  const { kafkaBrokers, redisUrl } = services();
  const topics = { events: n.topicFor('events'), offers: n.topicFor('offers'), decisions: n.topicFor('decisions'), dlq: n.topicFor('dlq') };
  const settings = loadSettings({
    KAFKA_BROKERS: kafkaBrokers.join(','),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: n.keyPrefix.replace(/:$/, ''),
    KAFKA_GROUP_ID: n.group,
    EMAIL_GROUP_ID: `${n.group}-email`,
    EVENTS_TOPIC: topics.events,
    OFFERS_TOPIC: topics.offers,
    DECISIONS_TOPIC: topics.decisions,
    DLQ_TOPIC: topics.dlq,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.CPIWATCH_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  return { settings, topics };
}

export async function createProcessorTopics(topics: ProcessorTopics, partitions = 1): Promise<void> {
  await createTopic(topics.events, { partitions });
  for (const t of [topics.offers, topics.decisions, topics.dlq]) await createTopic(t);
}

/** Starts a processor (topics created first); stop() shuts it down gracefully. */
export async function startProcessor(options: { settings: Settings; topics: ProcessorTopics; ruleSet: RuleSet; partitions?: number; createTopics?: boolean }): Promise<RunningProcessor> {
  if (options.createTopics !== false) await createProcessorTopics(options.topics, options.partitions ?? 1);
  const processor = new Processor({ settings: options.settings, ruleSet: options.ruleSet, log: createLogger(options.settings.LOG_LEVEL) });
  await processor.start();
  return { processor, settings: options.settings, topics: options.topics, stop: () => processor.stop() };
}

/** A store id starting with `prefix` whose owner partition (of `partitions`) is `partition`. */
export function storeOn(prefix: string, partition: number, partitions: number): string {
  for (let i = 0; ; i++) if (ownerOf(tagOf('storeId', `${prefix}-${i}`), partitions) === partition) return `${prefix}-${i}`;
}
