// What the Kafka security tests (SASL, TLS) share: a processor connected with given settings
// publishes the offers of the ops scenario; one that cannot talk to Kafka (bad credentials, an
// untrusted certificate) stays alive, reports not ready and says why on /readyz, without ever
// showing a secret; and the export lines the stack's scripts print.
import { expect } from 'vitest';
import { Processor } from '../../../src/app/processor.js';
import { createLogger } from '../../../src/ops/logger.js';
import { produce, waitFor, waitForMessages } from '../../support/index.js';
import { createProcessorTopics, exampleRules, startProcessor, testSettings } from '../../support/processor.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';

/** `export NAME=value` lines (scripts/stack.sh kafka-tls-env, scripts/ops/kafka-scram.sh) as a map. */
export function exportLines(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Runs a processor with `env` (over the test defaults) until it is ready and has published exactly the ops scenario's offers. */
export async function expectOffersWith(label: string, env: Record<string, string>): Promise<void> {
  const { settings, topics } = testSettings(label, env);
  const running = await startProcessor({ settings, topics, ruleSet: await exampleRules() });
  try {
    await waitFor(() => running.processor.health.ready, { timeoutMs: 30_000, what: `${label}: ready` });
    const scenario = opsScenario(settings.REDIS_PREFIX);
    await produce(topics.events, asProduced(scenario.profiles));
    await produce(topics.events, asProduced(scenario.rest));
    const expected = (await uninterrupted(running.processor.rules, scenario)).offered.map((d) => d.offerId).sort();
    expect(expected.length).toBeGreaterThan(0);
    const offers = await waitForMessages(topics.offers, expected.length, { timeoutMs: 30_000, settleMs: 500 });
    expect(offers.map((m) => (m.json as { id: string }).id).sort()).toEqual(expected);
  } finally {
    await running.stop();
  }
}

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
