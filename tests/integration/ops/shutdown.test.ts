// Graceful shutdown of the real command: `node bin/cpiwatch.js run` (built with `npm run build`)
// gets SIGTERM while events are flowing, exits 0 well within SHUTDOWN_TIMEOUT, is restarted, and
// in the end the offers topic holds exactly the offers of an uninterrupted run, each once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, produce, sleep, waitFor, waitForMessages } from '../../support/index.js';
import { createProcessorTopics, exampleRules, testSettings } from '../../support/processor.js';
import { build, caughtUp, childEnv, startChild, type Child } from './child.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;

describe('SIGTERM mid-stream', () => {
  const children: Child[] = [];

  beforeAll(async () => {
    await build();
  }, 150_000);

  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
  });

  it('stops cleanly within the deadline, and a restart neither loses nor repeats an offer', async () => {
    const { settings, topics } = testSettings('sigterm');
    await createProcessorTopics(topics, 3);
    const env = childEnv(settings, { SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms` });
    const scenario = opsScenario(settings.REDIS_PREFIX, { stores: 6, busyStores: 3 });
    const expected = await uninterrupted(await exampleRules(), scenario);
    const kafka = kafkaClient();

    const first = startChild(env);
    children.push(first);
    await first.waitForLog('joined consumer group', 45_000);
    await produce(topics.events, asProduced(scenario.profiles));
    await waitFor(() => caughtUp(kafka, settings.KAFKA_GROUP_ID, topics.events), { timeoutMs: 30_000, what: 'profiles consumed' });

    // events flow in small chunks; SIGTERM lands in the middle of the stream
    const rest = asProduced(scenario.rest);
    const chunk = 40;
    let sent = 0;
    const producing = (async () => {
      for (; sent < rest.length; sent += chunk) {
        await produce(topics.events, rest.slice(sent, sent + chunk));
        await sleep(100);
      }
    })();
    await waitFor(() => sent >= rest.length / 3, { timeoutMs: 30_000, what: 'a third of the stream produced' });
    // the first offers if they come before two thirds are out (a decision waits for the lateness), else signal anyway: mid-stream
    await waitFor(() => first.logs.some((l) => l.msg === 'offer published') || sent >= (2 * rest.length) / 3, { timeoutMs: 20_000, what: 'the first offers or two thirds of the stream' }).catch(() => undefined);
    const signalledAt = Date.now();
    const sentAtSignal = sent;
    first.process.kill('SIGTERM');
    const exit = await first.exited;
    const shutdownMs = exit.at - signalledAt;
    expect(exit.code, first.stderr.join('')).toBe(0);
    expect(shutdownMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(first.logs.some((l) => l.msg === 'shut down cleanly')).toBe(true);
    expect(sentAtSignal, 'the stream was still flowing when the process stopped').toBeLessThan(rest.length);
    console.log(`[shutdown] SIGTERM after ${sentAtSignal}/${rest.length} events produced; exit 0 in ${shutdownMs} ms`);

    const second = startChild(env);
    children.push(second);
    await producing;
    await waitFor(() => caughtUp(kafka, settings.KAFKA_GROUP_ID, topics.events), { timeoutMs: 45_000, what: 'the restarted process to catch up' });

    const offers = await waitForMessages(topics.offers, expected.offered.length, { timeoutMs: 30_000, settleMs: 1500 });
    const ids = offers.map((m) => (m.json as { id: string }).id);
    expect(new Set(ids).size, 'an offer was published twice').toBe(ids.length);
    expect(ids.sort()).toEqual(expected.offered.map((d) => d.offerId).sort());
    const decisions = await waitForMessages(topics.decisions, expected.decisions.length, { timeoutMs: 20_000, settleMs: 500 });
    const decisionIds = decisions.map((m) => (m.json as { data: { offerId: string } }).data.offerId);
    expect(decisionIds.sort()).toEqual(expected.decisions.map((d) => d.offerId).sort());

    second.process.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
