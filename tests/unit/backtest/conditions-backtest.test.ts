// cpiwatch backtest runs rules over several CPIs and trends through the same core as `cpiwatch test`:
// the same offers at any batch size, and a summary that says what the value of such a rule is.
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';
import { runCli } from '../../support/cli.js';

const FIXTURE = 'tests/unit/rule-tests/fixtures/conditions';

async function eventsOf(caseIndex: number): Promise<string> {
  const tf = await loadTestFile(`${FIXTURE}.test.yaml`);
  if (!tf.ok) throw new Error(JSON.stringify(tf.errors));
  const file = join(await mkdtemp(join(tmpdir(), 'cpiwatch-conditions-')), 'events.ndjson');
  await writeFile(file, tf.testFile.tests[caseIndex]!.messages.map((m) => String(m.value)).join('\n'));
  return file;
}

const offersOf = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { time: string; data: { rule: { id: string }; customerId: string } })
  .map((o) => `${o.data.rule.id} ${o.data.customerId} ${o.time}`).sort();

describe('cpiwatch backtest: rules over several CPIs and trends', () => {
  it('offers what the rule tests expect, at any batch size', async () => {
    const busy = await eventsOf(0);
    const trend = await eventsOf(3);
    for (const size of ['1', '7', '1000']) {
      const a = await runCli(['backtest', '--rules', `${FIXTURE}.yaml`, '--events', busy, '--batch-size', size]);
      expect(a.code).toBe(0);
      expect(offersOf(a.out), `batch size ${size}`).toEqual(['c1', 'c2', 'c3'].map((c) => `slow-and-busy ${c} 2026-11-23T18:14:00.000Z`));
      const b = await runCli(['backtest', '--rules', `${FIXTURE}.yaml`, '--events', trend, '--batch-size', size]);
      expect(b.code).toBe(0);
      expect(offersOf(b.out), `batch size ${size}`).toEqual(['slower-than-yesterday c1 2026-11-24T18:19:00.000Z']);
    }
  });

  it('summarises a trend by its ratio and a two-CPI rule by its conditions', async () => {
    const { err } = await runCli(['backtest', '--rules', `${FIXTURE}.yaml`, '--events', await eventsOf(3)]);
    expect(err).toMatch(/^slower-than-yesterday +1 +1 +1 +- +p90 as a ratio to sameTimeYesterday 1\.49\d* at storeId=S1 2026-11-24T18:\d\d:00\.000Z \(above 1\.3\)$/m);
    expect(err).toMatch(/^slow-and-busy +0 +0 +0 +- +never breached \(wait-vs-promise above 1\.25 and heading-in above 2\)$/m);
  });

  it("an offer's trigger is the condition that breached: of an any rule, the second one's CPI, aggregate and threshold", async () => {
    const text = readFileSync(`${FIXTURE}.yaml`, 'utf8').replace('      all:', '      any:').replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 5, clear: 4 }');
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-any-'));
    await writeFile(join(dir, 'any.yaml'), text);
    const { code, out } = await runCli(['backtest', '--rules', join(dir, 'any.yaml'), '--events', await eventsOf(0)]);
    expect(code).toBe(0);
    const triggers = out.trim().split('\n').map((l) => JSON.parse(l) as { data: { rule: { id: string }; trigger: Record<string, unknown> } }).filter((o) => o.data.rule.id === 'slow-and-busy').map((o) => o.data.trigger);
    expect(triggers).toHaveLength(3);
    for (const t of triggers) expect(t).toMatchObject({ cpi: 'heading-in', aggregate: 'count', value: 3, direction: 'above', threshold: 2 });
  });
});
