// A processor that cannot talk to Kafka (bad credentials, an untrusted certificate) must stay alive,
// report not ready and say why on /readyz, without ever showing a secret. Shared by the Kafka
// security tests.
import { expect } from 'vitest';
import { Processor } from '../../../src/app/processor.js';
import { createLogger } from '../../../src/ops/logger.js';
import { waitFor } from '../../support/index.js';
import { createProcessorTopics, exampleRules, testSettings } from '../../support/processor.js';

/**
 * Starts a processor with `env` (over the test defaults, STARTUP_RETRY_MAX 1 s), waits until
 * /readyz answers 503 with a Kafka detail matching `reason`, checks /healthz is 200 and that
 * `secret` appears nowhere in the answer; returns the Kafka detail.
 */
export async function expectKafkaNotReady(label: string, env: Record<string, string>, reason: RegExp, secret?: string): Promise<string> {
  const { settings, topics } = testSettings(label, { STARTUP_RETRY_MAX: '1s', ...env });
  await createProcessorTopics(topics);
  const processor = new Processor({ settings, ruleSet: await exampleRules(), log: createLogger('silent') });
  const starting = processor.start();
  try {
    await waitFor(() => processor.httpPort, { what: 'the HTTP endpoint' });
    const body = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${processor.httpPort}/readyz`);
      const b = (await res.json()) as { ready: boolean; checks: { kafka: { detail: string } } };
      return res.status === 503 && reason.test(b.checks.kafka.detail) ? b : undefined;
    }, { timeoutMs: 30_000, what: `${reason} on /readyz` });
    expect(body.ready).toBe(false);
    if (secret) expect(JSON.stringify(body)).not.toContain(secret);
    expect((await fetch(`http://127.0.0.1:${processor.httpPort}/healthz`)).status).toBe(200);
    return body.checks.kafka.detail;
  } finally {
    await processor.stop();
    await starting;
  }
}
