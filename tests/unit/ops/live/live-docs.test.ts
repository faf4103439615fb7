// docs/operations.md ("The live page") and docs/rules.md ("Reading the backtest report") say what
// the code does: the JSON example has the fields a real snapshot has, the bounds and limits are the
// code's, and the pictures exist and are small.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fencedBlocks } from '../../../support/markdown.js';
import { DEFAULT_LIVE_BOUNDS, LiveState } from '../../../../src/ops/live/live-state.js';
import { CHARTS_PER_RULE, liveSnapshot } from '../../../../src/ops/live/live-snapshot.js';
import { MAX_SCOPES } from '../../../../src/backtest/report/cpi-sections.js';
import { ROWS_PER_SCOPE } from '../../../../src/backtest/report/scope-tables.js';
import { createReplay } from '../../../../src/pipeline/replay.js';
import { loadRuleSet } from '../../../../src/rules/load.js';
import { curbsideScenario } from '../../../../src/samples/curbside-scenario.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const section = (doc: string, heading: string) => {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(0);
  const next = doc.indexOf('\n## ', start + heading.length + 2);
  const nextSub = heading.startsWith('### ') ? doc.indexOf('\n### ', start + heading.length + 2) : -1;
  const end = [next, nextSub].filter((i) => i > 0);
  return doc.slice(start, end.length ? Math.min(...end) : undefined);
};

/** Every key path of a JSON value, arrays read through all their items. */
function keyPaths(v: unknown, at = ''): string[] {
  if (Array.isArray(v)) return [...new Set(v.flatMap((x) => keyPaths(x, `${at}[]`)))];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [`${at}.${k}`, ...keyPaths(x, `${at}.${k}`)]);
  return [];
}

describe('docs of the live page', () => {
  const doc = section(read('docs/operations.md'), '## The live page');

  it('shows the JSON with the fields a real snapshot has', async () => {
    const loaded = await loadRuleSet(['rules']);
    if (!loaded.ok) throw new Error('rules');
    const scenario = curbsideScenario({ start: Date.UTC(2026, 10, 23, 17), seed: 5, stores: 2, busyStores: 1, enRoutePerStore: 12 });
    const replay = createReplay(loaded.ruleSet);
    const state = new LiveState();
    state.record(await replay.step(scenario.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } }))));
    state.record(await replay.finish());
    const real = liveSnapshot(state, loaded.ruleSet, { now: Date.UTC(2026, 10, 23, 17, 30) });
    // a suppressed decision first, as in the example (the reason field is there)
    real.decisions.sort((a, b) => Number(b.outcome === 'suppressed') - Number(a.outcome === 'suppressed'));
    real.rules.sort((a, b) => b.scopes.length - a.scopes.length);
    const example = JSON.parse(fencedBlocks(doc).find((b) => b.info === 'json')!.body) as unknown;
    expect([...new Set(keyPaths(example))].sort()).toEqual([...new Set(keyPaths(real))].sort());
  });

  it('states the code\'s bounds, endpoints and settings, with its picture', () => {
    const b = DEFAULT_LIVE_BOUNDS;
    expect(doc).toContain(`at most ${b.scopesPerRule} scopes`);
    expect(doc).toContain(`of ${b.pointsPerScope}\nevaluations each, and the last ${b.decisions} decisions`);
    expect(doc).toContain(`for the first ${CHARTS_PER_RULE} scopes`);
    for (const s of ['`GET /live`', '`GET /live.json`', '`LIVE_PAGE`', '`LIVE_PAGE_TOKEN`', '`403`', '`401`']) expect(doc).toContain(s);
    expect(doc).toContain('](img/live-page.png)');
    expect(statSync(join(ROOT, 'docs/img/live-page.png')).size).toBeLessThan(200_000);
  });
});

describe('docs of the backtest report', () => {
  it('states the report\'s limits, with its picture', () => {
    const doc = section(read('docs/rules.md'), '### Reading the backtest report');
    expect(doc).toContain(`(${MAX_SCOPES} at most`);
    expect(doc).toContain(`(${ROWS_PER_SCOPE} at most`);
    expect(doc).toContain('](img/backtest-report.png)');
    expect(statSync(join(ROOT, 'docs/img/backtest-report.png')).size).toBeLessThan(200_000);
  });
});
