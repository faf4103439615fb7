// The kafkajs client configuration built from settings: TLS and SASL (PLAIN, SCRAM-SHA-256/512)
// passed through to kafkajs, secrets from files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaConfig } from '../../../src/adapters/kafka/kafka-client.js';
import { loadSettings } from '../../../src/config/settings.js';
import { silentLogger } from '../../../src/ops/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-kafka-'));

describe('kafkaConfig', () => {
  it('is plaintext without SASL by default', () => {
    const c = kafkaConfig(loadSettings({}), silentLogger());
    expect(c.ssl).toBeUndefined();
    expect(c.sasl).toBeUndefined();
    expect(c.brokers).toEqual(['127.0.0.1:19092']);
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('passes SASL %s with the password from a file', (mechanism) => {
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const c = kafkaConfig(loadSettings({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'cpiwatch', KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw') }), silentLogger());
    expect(c.sasl).toEqual({ mechanism, username: 'cpiwatch', password: 'from-file' });
  });

  it('uses TLS with a private CA and verification on by default', () => {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const c = kafkaConfig(loadSettings({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'ca.pem') }), silentLogger());
    expect(c.ssl).toEqual({ rejectUnauthorized: true, ca: [expect.stringContaining('BEGIN CERTIFICATE')] });
    const insecure = kafkaConfig(loadSettings({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }), silentLogger());
    expect(insecure.ssl).toEqual({ rejectUnauthorized: false });
  });
});
