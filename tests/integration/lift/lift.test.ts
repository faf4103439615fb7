// `cpiwatch lift` on the real stack and on NDJSON files: a seeded scenario where offered customers
// convert more (30% vs 10% over 3000 decisions) reports the true effect inside its interval and an
// interval that excludes 0; one without an effect (20% vs 20%) reports an interval containing 0.
// From Kafka, the decisions are read committed: an aborted transaction's decisions never count.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LiftReport } from '../../../src/lift/report.js';
import { createTopic, kafkaClient, produce, runCli, services, uniqueNames } from '../../support/index.js';
import { decisionEvent, liftScenario, ndjson, type LiftScenario } from '../../support/lift-scenario.js';

const EFFECT = { customers: 3000, holdout: 0.1, offered: 0.3, heldOut: 0.1, seed: 13 };
const NO_EFFECT = { customers: 3000, holdout: 0.1, offered: 0.2, heldOut: 0.2, seed: 29 };
const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-lift-it-'));

const liftArgs = ['lift', '--outcome', 'order.placed', '--horizon', '7d', '--json'];

function expectCounts(rep: LiftReport, s: LiftScenario): LiftReport['rules'][number] {
  expect(rep.rules).toHaveLength(1);
  const r = rep.rules[0]!;
  expect([r.treated.customers, r.treated.converted, r.heldOut.customers, r.heldOut.converted, r.otherSuppressed['quiet-hours']])
    .toEqual([s.expected.offered, s.expected.offeredConverted, s.expected.heldOut, s.expected.heldOutConverted, s.expected.otherSuppressed]);
  expect(r.treated.open + r.heldOut.open).toBe(0);
  return r;
}

function expectEffect(r: LiftReport['rules'][number], trueDifference: number, shown: boolean): void {
  const c = r.comparison;
  expect(c.differenceInterval.low).toBeLessThan(trueDifference);
  expect(c.differenceInterval.high).toBeGreaterThan(trueDifference);
  expect(c.excludesZero).toBe(shown);
  if (!shown) {
    expect(c.differenceInterval.low).toBeLessThan(0);
    expect(c.differenceInterval.high).toBeGreaterThan(0);
  }
}

async function fromFiles(options: typeof EFFECT): Promise<{ s: LiftScenario; rep: LiftReport; text: string }> {
  const s = liftScenario(options);
  const decisions = join(dir, `decisions-${options.seed}.ndjson`);
  const events = join(dir, `events-${options.seed}.ndjson`);
  writeFileSync(decisions, ndjson(s.decisions));
  writeFileSync(events, ndjson(s.events));
  const json = await runCli([...liftArgs, '--decisions', decisions, '--events', events]);
  const text = await runCli([...liftArgs.filter((a) => a !== '--json'), '--decisions', decisions, '--events', events]);
  expect(json.code, json.err).toBe(0);
  return { s, rep: JSON.parse(json.out) as LiftReport, text: text.out };
}

/** The scenario on two topics of three partitions; the decisions in a committed transaction, after an aborted one of 300 offered ghosts who all converted. */
async function fromTopics(options: typeof EFFECT, label: string): Promise<{ s: LiftScenario; rep: LiftReport }> {
  const s = liftScenario(options);
  const names = uniqueNames(label);
  const decisionsTopic = await createTopic(names.topicFor('decisions'), { partitions: 3 });
  const eventsTopic = await createTopic(names.topicFor('events'), { partitions: 3 });
  const byCustomer = (r: Record<string, unknown>) => ({ key: String((r.data as { customerId?: string }).customerId ?? r.id), value: JSON.stringify(r) });
  const ghosts = Array.from({ length: 300 }, (_, i) => decisionEvent({ ruleId: 'curbside-flash-drink', customerId: `cust-${String(i).padStart(5, '0')}`, time: Date.parse('2026-11-01T00:00:00Z'), outcome: 'offered' }));
  const producer = kafkaClient(names.clientId).producer({ transactionalId: names.transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const aborted = await producer.transaction();
    await aborted.send({ topic: decisionsTopic, messages: ghosts.map(byCustomer) });
    await aborted.abort();
    const tx = await producer.transaction();
    await tx.send({ topic: decisionsTopic, messages: s.decisions.map(byCustomer) });
    await tx.commit();
  } finally {
    await producer.disconnect();
  }
  await produce(eventsTopic, [...s.events.map(byCustomer), { key: 'poison', value: 'not json' }]);
  const r = await runCli([...liftArgs, '--decisions-topic', decisionsTopic, '--topic', eventsTopic], { KAFKA_BROKERS: services().kafkaBrokers.join(',') });
  expect(r.code, r.err).toBe(0);
  expect(r.err).toMatch(new RegExp(`reading ${decisionsTopic.replace(/\./g, '\\.')}: partition 0 offsets`));
  const rep = JSON.parse(r.out) as LiftReport;
  expect(rep.decisions.records).toBe(s.decisions.length);
  expect(rep.decisions.unreadable.count).toBe(0);
  expect(rep.events.records).toBe(s.events.length + 1);
  expect(rep.events.unreadable).toMatchObject({ count: 1, byCode: { CPW200: 1 } });
  expect(rep.events.unreadable.first[0]!.origin).toMatch(new RegExp(`^${eventsTopic.replace(/\./g, '\\.')}:\\d@\\d+$`));
  return { s, rep };
}

describe('cpiwatch lift from NDJSON files', () => {
  it('a known effect (30% vs 10%): the true lift of 20 points is inside the interval, which excludes 0', async () => {
    const { s, rep, text } = await fromFiles(EFFECT);
    expectEffect(expectCounts(rep, s), 0.2, true);
    expect(text).toContain('the interval excludes 0: offered customers converted more');
  });

  it('no effect (20% vs 20%): the interval contains 0', async () => {
    const { s, rep, text } = await fromFiles(NO_EFFECT);
    expectEffect(expectCounts(rep, s), 0, false);
    expect(text).toContain('the interval contains 0: no difference shown');
  });
});

describe('bin/cpiwatch.js lift (the build in dist/)', () => {
  it('prints the report and writes the HTML page, exit 0', async () => {
    await fromFiles(EFFECT);
    const html = join(dir, 'bin.html');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/cpiwatch.js', ...liftArgs.filter((a) => a !== '--json'),
      '--decisions', join(dir, `decisions-${EFFECT.seed}.ndjson`), '--events', join(dir, `events-${EFFECT.seed}.ndjson`), '--html', html]);
    expect(stdout).toMatch(/^ {2}lift +\+\d+\.\d points \(95% Newcombe .*\); the interval excludes 0/m);
    expect(stderr).toContain(`HTML report: ${html}`);
  });
});

describe('cpiwatch lift from Kafka topics (read committed)', () => {
  it('a known effect: the same counts as the files, the aborted decisions left out', async () => {
    const { s, rep } = await fromTopics(EFFECT, 'lift-effect');
    expectEffect(expectCounts(rep, s), 0.2, true);
  }, 120_000);

  it('no effect: the interval contains 0', async () => {
    const { s, rep } = await fromTopics(NO_EFFECT, 'lift-none');
    expectEffect(expectCounts(rep, s), 0, false);
  }, 120_000);

  it('--from a time: the decisions published from then on, as lift on the same decisions from a file', async () => {
    const s = liftScenario({ ...EFFECT, customers: 1000 });
    const names = uniqueNames('lift-from');
    const decisionsTopic = await createTopic(names.topicFor('decisions'), { partitions: 2 });
    const eventsTopic = await createTopic(names.topicFor('events'), { partitions: 2 });
    // Kafka timestamps = event times, in order in each partition (as a processor publishing live)
    const stamped = (r: Record<string, unknown>) => ({ key: String((r.data as { customerId?: string }).customerId ?? r.id), value: JSON.stringify(r), timestamp: String(Date.parse(String(r.time))) });
    const decisions = [...s.decisions].sort((a, b) => String(a.time).localeCompare(String(b.time)));
    await produce(decisionsTopic, decisions.map(stamped));
    await produce(eventsTopic, s.events.map(stamped));
    const from = '2026-11-05T00:00:00Z';
    const later = decisions.filter((d) => String(d.time) >= from);
    const file = join(dir, 'decisions-from.ndjson');
    writeFileSync(file, ndjson(later));
    writeFileSync(join(dir, 'events-from.ndjson'), ndjson(s.events));
    const topics = await runCli([...liftArgs, '--decisions-topic', decisionsTopic, '--topic', eventsTopic, '--from', from], { KAFKA_BROKERS: services().kafkaBrokers.join(',') });
    const files = await runCli([...liftArgs, '--decisions', file, '--events', join(dir, 'events-from.ndjson')]);
    expect(topics.code, topics.err).toBe(0);
    const [a, b] = [topics, files].map((r) => JSON.parse(r.out) as LiftReport);
    expect(a!.decisions.records).toBe(later.length);
    expect(later.length).toBeLessThan(decisions.length);
    expect(a!.rules).toEqual(b!.rules);
    expect(a!.observedUntil).toBe(b!.observedUntil);
  }, 120_000);
});
