// Crash safety: `cpiwatch run` (the built binary, as a child process) is killed with SIGKILL at
// seeded random moments while it works through a long curbside stream, restarted each time, and
// its end state is compared with an uninterrupted run of the same input: window aggregates and
// rule states equal, the same offers, no offer id twice on the offers topic (read committed, as
// docs/offers.md asks of consumers), no e-mail twice.
//
//   default (npm test): ~20,000 events, 10 kills
//   CPIWATCH_FULL=1:    ~200,000 events, 25 kills   (CPIWATCH_CRASH_EVENTS / _KILLS / _SEED override)
// Logs of every life: .stack/logs/resilience/crash-*.log
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { createTopic, readWithJava, services, startSmtpServer, type TestSmtpServer } from '../../support/index.js';
import { exampleRules } from '../../support/processor.js';
import {
  assertBuilt, childEnv, curbsideStream, kafka, prng, produceEvents, readOutputs, readWindows, runNames, sleep,
  spawnCpiwatch, waitDrained, type Child, type EndState, type RunNames, type Stream,
} from './harness.js';

const FULL = process.env.CPIWATCH_FULL === '1';
const EVENTS = Number(process.env.CPIWATCH_CRASH_EVENTS ?? (FULL ? 200_000 : 20_000));
const KILLS = Number(process.env.CPIWATCH_CRASH_KILLS ?? (FULL ? 25 : 10));
const SEED = Number(process.env.CPIWATCH_CRASH_SEED ?? 20261123);
const PARTITIONS = 3;

interface KillPoint { life: number; target: number; extraMs: number; consumedAtKill?: number; phase?: string }

interface Run {
  names: RunNames;
  smtp: TestSmtpServer;
  state?: EndState;
  kills: KillPoint[];
  lives: number;
}

async function setup(label: string): Promise<Run> {
  const names = runNames(label);
  await createTopic(names.topics.events, { partitions: PARTITIONS });
  for (const t of [names.topics.offers, names.topics.decisions, names.topics.dlq]) await createTopic(t, { partitions: 2 });
  return { names, smtp: await startSmtpServer(), kills: [], lives: 0 };
}

async function start(run: Run): Promise<Child> {
  run.lives += 1;
  const child = await spawnCpiwatch(childEnv(run.names, services(), { SMTP_URL: run.smtp.url }), { log: `crash-${run.names.label}-${run.names.group.slice(-12)}` });
  return child;
}

async function stopGracefully(child: Child): Promise<void> {
  child.kill('SIGTERM');
  const exit = await Promise.race([child.exited, sleep(40_000).then(() => undefined)]);
  if (!exit) child.kill('SIGKILL');
  else expect(exit.code).toBe(0);
}

async function finish(run: Run, child: Child, stream: Stream, ruleSet: RuleSet, expectedOffers: number): Promise<void> {
  const k = kafka();
  await waitDrained(k, run.names.group, run.names.topics.events, 180_000, () => child.child.exitCode === null);
  const outputs = await readOutputs(run.names, expectedOffers);
  const emailed = outputs.offers.filter((o) => o.data.channels?.email).length;
  await run.smtp.waitForMessages(emailed, 90_000).catch(() => undefined);
  await sleep(2000); // a duplicate e-mail would show up now
  await stopGracefully(child);
  const windows = await readWindows(services().redisUrl, run.names.prefix, stream.scenario.stores.map((s) => s.storeId), ruleSet);
  run.state = { ...windows, ...outputs };
}

describe('crash safety: SIGKILL at seeded random moments', () => {
  let ruleSet: RuleSet;
  let stream: Stream;
  let reference: Run;
  let crashed: Run;

  beforeAll(async () => {
    assertBuilt();
    ruleSet = await exampleRules();
    stream = curbsideStream(EVENTS, `crash${SEED}`, SEED);
  }, 60_000);

  afterAll(async () => {
    await reference?.smtp.stop();
    await crashed?.smtp.stop();
  });

  it('uninterrupted reference run', async () => {
    reference = await setup('crash-ref');
    const k = kafka();
    await produceEvents(k, reference.names.topics.events, stream.profiles);
    const child = await start(reference);
    await waitDrained(k, reference.names.group, reference.names.topics.events, 120_000, () => child.child.exitCode === null);
    await produceEvents(k, reference.names.topics.events, stream.rest);
    await finish(reference, child, stream, ruleSet, 1);
    expect(reference.state!.offers.length).toBeGreaterThan(EVENTS / 1000); // the busy stores made offers
  }, 400_000);

  it(`${KILLS} SIGKILLs and restarts end in the same state (${EVENTS} events, seed ${SEED})`, async () => {
    crashed = await setup('crash-kill');
    const k = kafka();
    const rand = prng(SEED);
    const chunks: typeof stream.rest[] = [];
    const size = Math.ceil(stream.rest.length / (KILLS + 1));
    for (let i = 0; i < stream.rest.length; i += size) chunks.push(stream.rest.slice(i, i + size));

    await produceEvents(k, crashed.names.topics.events, stream.profiles);
    let child = await start(crashed);
    await waitDrained(k, crashed.names.group, crashed.names.topics.events, 120_000, () => child.child.exitCode === null);

    for (let i = 0; i < KILLS; i++) {
      await produceEvents(k, crashed.names.topics.events, chunks[i] ?? []);
      // kill once this life has consumed a seeded share of the new chunk (the counter moves once per
      // batch), plus a seeded delay of up to a batch's time, so the kill lands anywhere in a batch:
      // decode, window update, rule evaluation, decide, journal, transaction, commit
      const point: KillPoint = { life: crashed.lives, target: Math.floor((0.05 + 0.9 * rand()) * (chunks[i]?.length ?? 0)), extraMs: Math.floor(rand() * 250) };
      const deadline = Date.now() + 60_000;
      for (;;) {
        const consumed = await child.metric('cpiwatch_events_consumed_total');
        if ((consumed ?? 0) >= point.target || Date.now() > deadline) break;
        if (child.child.exitCode !== null) throw new Error(`life ${crashed.lives} exited on its own (code ${child.child.exitCode}); see .stack/logs/resilience/`);
        await sleep(5);
      }
      await sleep(point.extraMs);
      point.consumedAtKill = await child.metric('cpiwatch_events_consumed_total');
      child.kill('SIGKILL');
      await child.exited;
      crashed.kills.push(point);
      child = await start(crashed);
    }
    for (const rest of chunks.slice(KILLS)) await produceEvents(k, crashed.names.topics.events, rest);
    await finish(crashed, child, stream, ruleSet, reference.state!.offers.length);

    console.log(`[crash] seed ${SEED}, ${EVENTS} events, kill points (life: consumed by that life at the kill / target): ${crashed.kills.map((p) => `${p.life}:${p.consumedAtKill}/${p.target}`).join(' ')}`);
    expect(crashed.kills.length).toBeGreaterThanOrEqual(KILLS);
    const ref = reference.state!;
    const got = crashed.state!;

    // no offer id twice on the offers topic, no e-mail twice; read by kafkajs (with cpiwatch's
    // read-committed fix) and by the stock Java consumer, the reference a downstream service uses
    const ids = got.offers.map((o) => o.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    const java = await readWithJava(crashed.names.topics.offers);
    const javaIds = java?.map((r) => (JSON.parse(r.value) as { id: string }).id);
    const javaDupes = javaIds?.filter((id, i) => javaIds.indexOf(id) !== i) ?? [];
    // where each copy sits: next to each other (a producer retry) or in two transactions
    const copies = (id: string) => [
      ...got.offerMessages.filter((m) => (m.json as { id: string }).id === id).map((m) => `kafkajs p${m.partition}@${m.offset}`),
      ...(java ?? []).filter((r) => (JSON.parse(r.value) as { id: string }).id === id).map((r) => `java p${r.partition}@${r.offset}`),
    ].join(' ');
    if (dupes.length > 0 || javaDupes.length > 0) console.log(`[crash] duplicates (kafkajs ${dupes.length}, Java ${java ? javaDupes.length : 'not run'}): ${[...new Set([...dupes, ...javaDupes])].map((id) => `${id}: ${copies(id)}`).join('; ')}`);
    expect(javaDupes, 'offer ids published twice (stock Java consumer, read_committed)').toEqual([]);
    expect(dupes, 'offer ids read twice by kafkajs (read committed, with the fix) but not by the Java consumer').toEqual([]);
    if (java) expect(javaIds!.slice().sort()).toEqual(ids.slice().sort());
    else console.log('[crash] no Java or Kafka jars here: the offers topic was read by kafkajs only');
    const mailIds = crashed.smtp.messages.map((m) => m.headers['x-cpiwatch-offer-id']);
    expect(mailIds.filter((id, i) => mailIds.indexOf(id) !== i), 'offers e-mailed twice').toEqual([]);

    // the same offers, decisions, e-mails, windows and rule states as without crashes
    expect(ids.slice().sort()).toEqual(ref.offers.map((o) => o.id).sort());
    expect(got.decisions.slice().sort()).toEqual(ref.decisions.slice().sort());
    expect(new Set(mailIds)).toEqual(new Set(reference.smtp.messages.map((m) => m.headers['x-cpiwatch-offer-id'])));
    expect(got.windows).toEqual(ref.windows);
    expect(got.ruleStates).toEqual(ref.ruleStates);
  }, FULL ? 3_600_000 : 600_000);
});
