// Kafka over SASL/SCRAM on the local broker's SASL_PLAINTEXT listener (scripts/stack.sh; users from
// scripts/ops/kafka-scram.sh): the processor consumes and publishes as a SCRAM user with the
// password from a file, SCRAM-SHA-512 works too, and a wrong password leaves it alive, not ready,
// saying why. TLS (with PLAIN and SCRAM over it) is in kafka-tls.test.ts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { services, servicesSource, uniqueId } from '../../support/index.js';
import { ROOT } from './child.js';
import { expectKafkaNotReady, expectOffersWith, exportLines } from './kafka-security.js';

const user = uniqueId('cpw-sasl');
const password = randomBytes(12).toString('hex');
let sasl: Record<string, string> = {};

async function clusterId(brokers: string[], saslOptions?: kafkajs.SASLOptions): Promise<string> {
  const admin = new kafkajs.Kafka({ brokers, ...(saslOptions ? { sasl: saslOptions } : {}), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'scripts/ops/kafka-scram.sh'), user, password], { cwd: ROOT, timeout: 60_000 }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`scripts/ops/kafka-scram.sh failed (this test needs the SASL listener of scripts/stack.sh's broker; Kafka here: ${servicesSource()}): ${err.stderr ?? err.message}`);
  });
  sasl = exportLines(stdout);
  expect(sasl.KAFKA_BROKERS).toMatch(/^127\.0\.0\.1:\d+$/);
  // the SASL listener must belong to the broker the other tests use
  expect(await clusterId([sasl.KAFKA_BROKERS!], { mechanism: 'scram-sha-256', username: user, password })).toBe(await clusterId(services().kafkaBrokers));
}, 90_000);

function passwordFile(pw: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-sasl-'));
  writeFileSync(join(dir, 'kafka-password'), `${pw}\n`);
  return join(dir, 'kafka-password');
}

describe('Kafka SASL/SCRAM', () => {
  it('runs the processor as a SCRAM-SHA-256 user: events in, offers out', async () => {
    await expectOffersWith('sasl', {
      KAFKA_BROKERS: sasl.KAFKA_BROKERS!, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: user, KAFKA_SASL_PASSWORD_FILE: passwordFile(password),
    });
  });

  it('authenticates with SCRAM-SHA-512 too', async () => {
    const admin = new kafkajs.Kafka({ brokers: [sasl.KAFKA_BROKERS!], sasl: { mechanism: 'scram-sha-512', username: user, password }, logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect((await admin.describeCluster()).brokers.map((b) => b.port)).toContain(Number(sasl.KAFKA_BROKERS!.split(':')[1]));
    } finally {
      await admin.disconnect();
    }
  });

  it('with a wrong password: alive, not ready, and the reason on /readyz', async () => {
    await expectKafkaNotReady('sasl-bad', {
      KAFKA_BROKERS: sasl.KAFKA_BROKERS!, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: user, KAFKA_SASL_PASSWORD: 'not-the-password',
    }, /SASL.*authentication failed/i, 'not-the-password');
  });
});
