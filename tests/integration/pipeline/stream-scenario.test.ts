// Issue 10's scenario on the real stack: a seeded curbside day (src/samples/mixed-scenario.ts: 8
// stores, one quiet right after its waits go bad, one in its quiet hours; 1,000 customers with
// profiles; 3 % duplicates; delivery out of order within lateness in the full run) produced to a 6-partition topic
// keyed three ways (by store, by order or customer id, at random) and consumed (a) as a backlog by
// one instance, (b) by three instances with one killed by SIGKILL mid-stream, (c) paced at 500
// events/s. In every case the offer ids on the offers topic (read committed) are exactly those
// `cpiwatch backtest` gives on the same NDJSON, no id appears twice, and no event is counted late.
//
// npm test runs every keying as a backlog, and (b) and (c) with one keying each; CPIWATCH_FULL=1
// runs every keying in every mode on a larger day.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Processor } from '../../../src/app/processor.js';
import { createLogger } from '../../../src/ops/logger.js';
import { mixedScenario, type Keying, type MixedScenario } from '../../../src/samples/mixed-scenario.js';
import { produce, readWithJava, sleep, waitFor, waitForMessages } from '../../support/index.js';
import { createProcessorTopics, exampleRules, testSettings } from '../../support/processor.js';
import { build, childEnv, startChild, type Child } from '../ops/child.js';
import { kafka, waitDrained } from '../resilience/harness.js';

const FULL = process.env.CPIWATCH_FULL === '1';
const ROOT = join(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);
const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

type Mode = 'backlog' | 'three-instances-one-killed' | 'paced';

const cases: { keying: Keying; mode: Mode }[] = FULL
  ? (['store', 'entity', 'random'] as const).flatMap((keying) => (['backlog', 'three-instances-one-killed', 'paced'] as const).map((mode) => ({ keying, mode })))
  : [
    { keying: 'store', mode: 'backlog' }, { keying: 'entity', mode: 'backlog' }, { keying: 'random', mode: 'backlog' },
    { keying: 'random', mode: 'three-instances-one-killed' }, { keying: 'entity', mode: 'paced' },
  ];

describe('a curbside day, any keying, any consumption: the offers of the backtest', () => {
  let scenario: MixedScenario;
  let expected: string[];
  const processors: Processor[] = [];
  const children: Child[] = [];

  beforeAll(async () => {
    await build();
    // three hours ago: the whole day is history, as in a catch-up (its stream time runs on the events);
    // delivered out of order within the lateness (30 % of events up to 45 s late, 2 min allowed), 3 %
    // duplicates up to 20 s after the original
    scenario = mixedScenario({ start: Date.now() - 3 * 3600_000, seed: 11, minutes: FULL ? 150 : 45, customers: 1000 });
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-scenario-'));
    const file = join(dir, 'day.ndjson');
    writeFileSync(file, scenario.events.map((e) => JSON.stringify(e.event)).join('\n') + '\n');
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin/cpiwatch.js'), 'backtest', '--rules', join(ROOT, 'rules'), '--events', file], { maxBuffer: 64 * 1024 * 1024 });
    expected = stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id).sort();
    expect(expected.length).toBeGreaterThan(20);
  }, 240_000);

  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
    await Promise.all(processors.map((p) => p.stop().catch(() => undefined)));
  });

  for (const { keying, mode } of cases) {
    it(`keyed by ${keying}, ${mode}`, async () => {
      const { settings, topics } = testSettings(`day-${keying}-${mode}`, { KAFKA_SESSION_TIMEOUT: '6s', PARTITIONS_CONCURRENTLY: '6' });
      await createProcessorTopics(topics, 6);
      const messages = scenario.events.map((e) => ({ key: e.keys[keying], value: JSON.stringify(e.event), headers: { 'content-type': CE_JSON } }));
      const started: Processor[] = [];
      const start = async () => {
        const p = new Processor({ settings, ruleSet: await exampleRules(), log: createLogger(settings.LOG_LEVEL) });
        processors.push(p);
        started.push(p);
        await p.start();
      };

      if (mode === 'backlog') {
        for (let i = 0; i < messages.length; i += 1000) await produce(topics.events, messages.slice(i, i + 1000));
        await start();
      } else if (mode === 'paced') {
        await start();
        // 50 events every 100 ms: 500 events/s
        for (let i = 0; i < messages.length; i += 50) {
          const t = Date.now();
          await produce(topics.events, messages.slice(i, i + 50));
          await sleep(Math.max(0, 100 - (Date.now() - t)));
        }
      } else {
        const child = startChild(childEnv(settings, { KAFKA_SESSION_TIMEOUT: '6s', PARTITIONS_CONCURRENTLY: '6' }));
        children.push(child);
        await child.waitForLog('joined consumer group', 45_000);
        await start();
        await start();
        await waitFor(() => (child.logs.filter((l) => l.msg === 'joined consumer group').at(-1)?.partitions as number[] | undefined)?.length === 2, { timeoutMs: 30_000, what: 'the child to own two input partitions' });
        let sent = 0;
        const producing = (async () => {
          for (; sent < messages.length; sent += 100) {
            await produce(topics.events, messages.slice(sent, sent + 100));
            await sleep(100);
          }
        })();
        await waitFor(() => sent >= messages.length / 3, { timeoutMs: 60_000, intervalMs: 20, what: 'a third of the day produced' });
        child.process.kill('SIGKILL');
        expect((await child.exited).signal).toBe('SIGKILL');
        await producing;
      }

      await waitDrained(kafka(), settings.KAFKA_GROUP_ID, topics.events, 120_000);
      const offers = await waitForMessages(topics.offers, expected.length, { timeoutMs: 60_000, settleMs: 3000 });
      const ids = offers.map((m) => (m.json as { id: string }).id);
      expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'offer ids published twice').toEqual([]);
      expect(ids.sort()).toEqual(expected);
      // the stock Java consumer (read_committed) reads the same offers, none twice
      const java = await readWithJava(topics.offers);
      if (java) expect(java.map((r) => (JSON.parse(r.value) as { id: string }).id).sort(), 'offers read by the Java consumer').toEqual(expected);
      const late = await Promise.all(started.map(async (p) => (await p.metrics.events.get()).values.find((v) => v.labels.outcome === 'late')?.value ?? 0));
      expect(late.reduce((a, b) => a + b, 0), 'events counted late').toBe(0);
      console.log(`[day] keyed by ${keying}, ${mode}: ${ids.length} offers, as the backtest; ${scenario.events.length} events (${scenario.duplicates} duplicates)`);
      await Promise.all(started.map((p) => p.stop()));
    }, FULL ? 900_000 : 300_000);
  }
});
