// Scaling out: three instances in one consumer group over a six-partition topic, two in-process and
// one `cpiwatch run` child process that is killed with SIGKILL mid-stream (no commit, no leave).
// Its partitions move to the survivors after the session timeout, the uncommitted batches are
// redelivered, and the offers equal those of a single uninterrupted instance, each once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Processor } from '../../../src/app/processor.js';
import { createLogger } from '../../../src/ops/logger.js';
import { kafkaClient, produce, sleep, waitFor, waitForMessages } from '../../support/index.js';
import { createProcessorTopics, exampleRules, testSettings } from '../../support/processor.js';
import { build, caughtUp, childEnv, startChild, type Child } from './child.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';

describe('three instances, one killed', () => {
  const processors: Processor[] = [];
  let child: Child | undefined;

  beforeAll(async () => {
    await build();
  }, 180_000);

  afterAll(async () => {
    if (child?.process.exitCode === null) child.process.kill('SIGKILL');
    await Promise.all(processors.map((p) => p.stop()));
  });

  it('shares six partitions, survives a SIGKILL and publishes exactly the offers of one instance', async () => {
    const { settings, topics } = testSettings('scale', { KAFKA_SESSION_TIMEOUT: '6s', PARTITIONS_CONCURRENTLY: '3' });
    await createProcessorTopics(topics, 6);
    const ruleSet = await exampleRules();
    const scenario = opsScenario(settings.REDIS_PREFIX, { stores: 6, busyStores: 3 });
    const expected = await uninterrupted(ruleSet, scenario);
    const kafka = kafkaClient();

    child = startChild(childEnv(settings, { KAFKA_SESSION_TIMEOUT: '6s', PARTITIONS_CONCURRENTLY: '3' }));
    await child.waitForLog('joined consumer group', 45_000);
    for (let i = 0; i < 2; i++) {
      const p = new Processor({ settings, ruleSet, log: createLogger(settings.LOG_LEVEL) });
      processors.push(p);
      await p.start();
    }
    const admin = kafka.admin();
    await admin.connect();
    const members = await waitFor(async () => {
      const { groups: [g] } = await admin.describeGroups([settings.KAFKA_GROUP_ID]);
      return g?.state === 'Stable' && g.members.length === 3 ? g.members : undefined;
    }, { timeoutMs: 45_000, what: 'a stable group of three' });
    await admin.disconnect();
    expect(members).toHaveLength(3);
    const childAssigned = () => (child!.logs.filter((l) => l.msg === 'joined consumer group').at(-1)?.partitions as number[] | undefined) ?? [];
    await waitFor(() => childAssigned().length === 2, { timeoutMs: 20_000, what: 'the child to own two partitions' });

    await produce(topics.events, asProduced(scenario.profiles));
    await waitFor(() => caughtUp(kafka, settings.KAFKA_GROUP_ID, topics.events), { timeoutMs: 30_000, what: 'profiles consumed' });

    const rest = asProduced(scenario.rest);
    let sent = 0;
    const producing = (async () => {
      for (; sent < rest.length; sent += 40) {
        await produce(topics.events, rest.slice(sent, sent + 40));
        await sleep(150);
      }
    })();
    await waitFor(() => sent >= rest.length / 3, { timeoutMs: 30_000, intervalMs: 20, what: 'a third of the stream produced' });
    const killedAt = Date.now();
    const sentAtKill = sent;
    child.process.kill('SIGKILL');
    expect(sentAtKill, 'the stream was still flowing when the instance died').toBeLessThan(rest.length);
    expect((await child.exited).signal).toBe('SIGKILL');
    await producing;

    await waitFor(() => caughtUp(kafka, settings.KAFKA_GROUP_ID, topics.events), { timeoutMs: 45_000, what: 'the survivors to take over and catch up' });
    console.log(`[scale-out] child owned partitions ${childAssigned().join(',')}; SIGKILL at ${sentAtKill}/${rest.length} events produced; caught up ${Date.now() - killedAt} ms later`);
    const offers = await waitForMessages(topics.offers, expected.offered.length, { timeoutMs: 30_000, settleMs: 1500 });
    const ids = offers.map((m) => (m.json as { id: string }).id);
    expect(new Set(ids).size, 'an offer was published twice').toBe(ids.length);
    expect(ids.sort()).toEqual(expected.offered.map((d) => d.offerId).sort());
    // each partition's offers come from whoever owned it: all three instances did work
    const consumedInProcess = await Promise.all(processors.map(async (p) => (await p.metrics.eventsConsumed.get()).values[0]?.value ?? 0));
    expect(consumedInProcess.every((n) => n > 0)).toBe(true);
    expect(consumedInProcess.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(scenario.events.length + 1000);
  });
});
