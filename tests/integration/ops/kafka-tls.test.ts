// Kafka over TLS, configured as production would be: KAFKA_SSL=true, the private CA in
// KAFKA_SSL_CA_FILE and SASL on the same connection (SASL_SSL), on the SASL_SSL listener of
// scripts/stack.sh's broker (a certificate for 127.0.0.1 signed by a CA the stack makes in
// .stack/kafka/tls/; settings from `scripts/stack.sh kafka-tls-env`). The processor runs as the
// PLAIN user (password from a file) and as a SCRAM-SHA-512 user; a client that trusts another CA,
// or a wrong PLAIN password, leaves it alive and not ready, saying why on /readyz.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestTls, services, servicesSource, uniqueId } from '../../support/index.js';
import { ROOT } from './child.js';
import { expectKafkaNotReady, expectOffersWith, exportLines } from './kafka-security.js';

const run = promisify(execFile);
const otherCa = makeTestTls('kafka-tls-other');
let tlsEnv: Record<string, string> = {};

async function describeCluster(config: Omit<kafkajs.KafkaConfig, 'logLevel'>): Promise<{ clusterId: string; ports: number[] }> {
  const admin = new kafkajs.Kafka({ ...config, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const c = await admin.describeCluster();
    return { clusterId: c.clusterId, ports: c.brokers.map((b) => b.port) };
  } finally {
    await admin.disconnect();
  }
}

const tlsBrokers = () => [tlsEnv.KAFKA_BROKERS!];
const caPem = () => readFileSync(tlsEnv.KAFKA_SSL_CA_FILE!, 'utf8');
const plain = () => ({ mechanism: 'plain' as const, username: tlsEnv.KAFKA_SASL_USERNAME!, password: readFileSync(tlsEnv.KAFKA_SASL_PASSWORD_FILE!, 'utf8').trim() });

beforeAll(async () => {
  const { stdout } = await run('bash', [join(ROOT, 'scripts/stack.sh'), 'kafka-tls-env'], { cwd: ROOT, timeout: 30_000 }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`scripts/stack.sh kafka-tls-env failed (this test needs the SASL_SSL listener of scripts/stack.sh's broker; Kafka here: ${servicesSource()}): ${err.stderr ?? err.message}`);
  });
  tlsEnv = exportLines(stdout);
  expect(tlsEnv.KAFKA_BROKERS).toMatch(/^127\.0\.0\.1:\d+$/);
  // the TLS listener must belong to the broker the other tests use
  const overTls = await describeCluster({ brokers: tlsBrokers(), ssl: { ca: [caPem()] }, sasl: plain() });
  const plainText = await describeCluster({ brokers: services().kafkaBrokers });
  expect(overTls.clusterId).toBe(plainText.clusterId);
}, 60_000);

afterAll(() => otherCa.remove());

describe('Kafka over TLS (SASL_SSL)', () => {
  it('runs the processor over TLS as a PLAIN user with the password from a file: events in, offers out', async () => {
    expect(tlsEnv).toMatchObject({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain' });
    await expectOffersWith('kafka-tls', tlsEnv);
  });

  it('authenticates a SCRAM-SHA-512 user over TLS too', async () => {
    const user = uniqueId('cpw-tls-scram');
    const password = randomBytes(12).toString('hex');
    await run('bash', [join(ROOT, 'scripts/ops/kafka-scram.sh'), user, password], { cwd: ROOT, timeout: 60_000 });
    const cluster = await describeCluster({ brokers: tlsBrokers(), ssl: { ca: [caPem()] }, sasl: { mechanism: 'scram-sha-512', username: user, password } });
    expect(cluster.ports).toContain(Number(tlsEnv.KAFKA_BROKERS!.split(':')[1]));
  });

  it('refuses a broker whose certificate the configured CA did not sign: alive, not ready, the reason on /readyz', async () => {
    const detail = await expectKafkaNotReady('kafka-tls-other-ca', { ...tlsEnv, KAFKA_SSL_CA_FILE: otherCa.otherCaFile }, /certificate/i);
    expect(detail).toMatch(/self[- ]signed|unable to (get|verify)|certificate/i);
  });

  it('with a wrong PLAIN password over TLS: alive, not ready, the reason on /readyz, the password never shown', async () => {
    const wrong = `not-the-password-${randomBytes(4).toString('hex')}`;
    await expectKafkaNotReady('kafka-tls-bad-password', { ...tlsEnv, KAFKA_SASL_PASSWORD: wrong, KAFKA_SASL_PASSWORD_FILE: '' }, /SASL.*authentication failed/i, wrong);
  });
});
