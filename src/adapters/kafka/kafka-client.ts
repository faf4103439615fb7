/** Builds the kafkajs client from settings (brokers, TLS, SASL) with kafkajs logs routed to pino. */
// first: kafkajs must load with its read-committed filter fixed (read-committed.ts)
import './read-committed.js';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Settings } from '../../config/settings.js';
import type { Logger } from '../../ops/logger.js';
import { kafkaLogCreator } from './kafka-log.js';

export type KafkaSettings = Pick<Settings, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID' | 'KAFKA_SSL' | 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_REJECT_UNAUTHORIZED' | 'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD'>;

export function kafkaConfig(s: KafkaSettings, log: Logger): KafkaConfig {
  const config: KafkaConfig = {
    clientId: s.KAFKA_CLIENT_ID,
    brokers: s.KAFKA_BROKERS,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
  };
  if (s.KAFKA_SSL) {
    config.ssl = {
      rejectUnauthorized: s.KAFKA_SSL_REJECT_UNAUTHORIZED,
      ...(s.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(s.KAFKA_SSL_CA_FILE, 'utf8')] } : {}),
    };
  }
  if (s.KAFKA_SASL_MECHANISM !== 'none') {
    config.sasl = { mechanism: s.KAFKA_SASL_MECHANISM, username: s.KAFKA_SASL_USERNAME ?? '', password: s.KAFKA_SASL_PASSWORD ?? '' } as SASLOptions;
  }
  return config;
}

export function createKafka(s: KafkaSettings, log: Logger): Kafka {
  return new Kafka(kafkaConfig(s, log));
}
