import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { offerEventOf } from '../../../src/actions/offer-event.js';
import { runCli } from '../../support/cli.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';

const START = Date.UTC(2026, 10, 23, 17, 0, 0); // 11:00 in Chicago
let dir: string;
let events: string;
let scenario: ReturnType<typeof curbsideScenario>;

const cli = (...argv: string[]) => runCli(argv);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpiwatch-backtest-'));
  scenario = curbsideScenario({ start: START, seed: 5, stores: 3, busyStores: 2, enRoutePerStore: 12 });
  const lines = scenario.events.map((e) => JSON.stringify(e.event));
  lines.splice(3, 0, '{"not": "a cloudevent"}', '', 'garbage');
  events = join(dir, 'events.ndjson');
  await writeFile(events, `${lines.join('\n')}\n`);
});

describe('cpiwatch backtest --events', () => {
  it('writes the offers the engine takes as NDJSON CloudEvents, whatever the batch size', async () => {
    const loaded = await loadRuleSet(['rules']);
    if (!loaded.ok) throw new Error('rules');
    const sink = new CollectingSink();
    // the engine in one batch of everything, then the end of the input
    const messages = scenario.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'x', partition: 0, offset: i } }));
    const replay = createReplay(loaded.ruleSet, { sink, batchSize: messages.length });
    await replay.feed(messages);
    await replay.finish();
    const expected = sink.offers.map((d) => JSON.stringify(offerEventOf(d))).sort();
    expect(expected.length).toBeGreaterThan(4);

    for (const size of ['1', '17', '1000']) {
      const { code, out } = await cli('backtest', '--rules', 'rules', '--events', events, '--batch-size', size);
      expect(code).toBe(0);
      expect(out.trim().split('\n').sort()).toEqual(expected);
    }
  });

  it('counts invalid lines as dead letters and summarises each rule on stderr', async () => {
    const { code, out, err } = await cli('backtest', '--rules', 'rules', '--events', events, '--decisions');
    expect(code).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: { outcome?: string; reason?: string } });
    const offers = lines.filter((l) => l.type === 'cpiwatch.offer.v1');
    const suppressed = lines.filter((l) => l.type !== 'cpiwatch.offer.v1');
    expect(suppressed.length).toBeGreaterThan(0);
    expect(suppressed.every((s) => s.data.outcome === 'suppressed' && s.data.reason === 'holdout')).toBe(true);
    expect(err).toMatch(new RegExp(`backtest: ${scenario.events.length + 2} events \\(${scenario.events.length} applied, 0 late, 0 duplicate, 0 unmatched, 2 dead-lettered\\)`));
    const row = err.split('\n').find((l) => l.startsWith('curbside-flash-drink'))!;
    expect(row).toMatch(new RegExp(`^curbside-flash-drink +2 +${offers.length} +${offers.length}  holdout ${suppressed.length} +p90 \\d\\.\\d+ at storeId=demo-store-[AB] \\S+ \\(above 1\\.25\\)$`));
    expect(err).toMatch(/^slow-shipping-voucher +0 +0 +0 +- +never breached \(above 48\)$/m);
    expect(err).toContain(`${events}:4: CPW201`);
    expect(err).toContain(`${events}:6: CPW200`);
  });

  it('writes a self-contained HTML report with each CPI against its threshold', async () => {
    const html = join(dir, 'report.html');
    const { code } = await cli('backtest', '--rules', 'rules', '--events', events, '--html', html);
    expect(code).toBe(0);
    const text = await readFile(html, 'utf8');
    expect(text).toMatch(/^<!doctype html>/);
    expect(text).not.toMatch(/(src|href)=|<script|url\(/);
    expect(text.match(/<svg /g)?.length).toBe(3); // the curbside rule in each of 3 stores
    expect(text).toContain('fires above 1.25');
    expect(text).toMatch(/<g class="mark fire">.*<title>curbside-flash-drink fired at 2026-11-23 \d\d:\d\d \(America\/Chicago\)/);
    // who got what, and why the others were suppressed, in UTC and the store's zone
    expect(text).toContain('<td class="customer">');
    expect(text).toMatch(/suppressed: <b class="reason">holdout<\/b><\/td><td>the customer is in the rule&#39;s 10% holdout group/);
    expect(text).toContain('cpiwatch explain --rules rules --events');
    expect(text).toContain('No evaluation: no bucket of this CPI closed');
  });

  it('exits 1 on invalid rules and 2 on usage errors', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'rules:\n  - id: x\n    tresholds: 1\n');
    expect((await cli('backtest', '--rules', bad, '--events', events)).code).toBe(1);
    expect((await cli('backtest', '--rules', 'rules', '--events', join(dir, 'missing.ndjson'))).code).toBe(1);
    expect((await cli('backtest', '--events', events)).code).toBe(2);
    expect((await cli('backtest', '--rules', 'rules')).code).toBe(2);
    expect((await cli('backtest', '--rules', 'rules', '--events', events, '--topic', 't')).code).toBe(2);
    expect((await cli('backtest', '--rules', 'rules', '--topic', 't', '--from', 'yesterday')).code).toBe(2);
    expect((await cli('backtest', '--rules', 'rules', '--events', events, '--bogus')).code).toBe(2);
  });
});
