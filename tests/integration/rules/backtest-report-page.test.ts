// The backtest report of the curbside scenario, opened in Debian's Chromium: one chart per CPI and
// scope with the rule's lines, round y ticks, labelled times in the store's zone, fire and clear
// times printed, offers and suppressions marked on the timeline, and per store the table of who was
// offered and who was suppressed and why. A screenshot is saved under test-output/backtest-report/.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { launchChromium, testOutputDir } from '../../support/browser.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';

const START = Date.UTC(2026, 10, 23, 17, 0, 0); // 11:00 in Chicago

describe('backtest report in a browser', () => {
  let browser: Browser;
  const out = testOutputDir('backtest-report');
  const html = join(out, 'report.html');
  const scenario = curbsideScenario({ start: START, seed: 5, stores: 3, busyStores: 2, enRoutePerStore: 12, timeZone: 'America/Chicago' });

  beforeAll(async () => {
    browser = await launchChromium();
    const events = join(out, 'events.ndjson');
    await writeFile(events, `${scenario.events.map((e) => JSON.stringify(e.event)).join('\n')}\n`);
    const run = await runCli(['backtest', '--rules', 'rules', '--events', events, '--html', html]);
    expect(run.code, run.err).toBe(0);
  }, 60_000);

  afterAll(async () => { await browser?.close(); });

  it('marks offers and suppressions per store, with who and why, in UTC and the store zone', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 980, height: 1200 });
    await page.goto(pathToFileURL(html).href);
    const busy = scenario.stores.filter((s) => s.busy).map((s) => s.storeId);
    const figures = await page.$$eval('section[data-cpi="curbside-wait-vs-promise"] figure.scope', (fs) => fs.map((f) => ({
      scope: f.getAttribute('data-scope'),
      charts: f.querySelectorAll('svg.chart').length,
      offers: f.querySelectorAll('.offer-mark').length,
      suppressed: f.querySelectorAll('.suppressed-mark').length,
      fireLabels: [...f.querySelectorAll('.mark.fire .mark-label')].map((t) => t.textContent),
      xticks: [...f.querySelectorAll('.xtick')].map((t) => t.textContent),
      yticks: [...f.querySelectorAll('.ytick')].map((t) => t.textContent),
      offeredRows: f.querySelectorAll('table.decisions tr.offered').length,
      suppressedRows: [...f.querySelectorAll('table.decisions tr.suppressed')].map((r) => r.textContent),
      episodes: f.querySelectorAll('table.episodes tr.episode-row').length,
    })));
    expect(figures.map((f) => f.scope).sort()).toEqual(scenario.stores.map((s) => `storeId=${s.storeId}`).sort());
    for (const f of figures) {
      expect(f.charts).toBe(1);
      expect(f.xticks.length).toBeGreaterThanOrEqual(3);
      for (const t of f.xticks) expect(t).toMatch(/^(\d\d-\d\d )?\d\d:\d\d$/);
      // round ticks: multiples of their step, at most 3 significant digits
      for (const t of f.yticks) expect(t).toMatch(/^-?\d+(\.\d{1,2})?$/);
    }
    const fired = figures.filter((f) => busy.some((b) => f.scope === `storeId=${b}`));
    for (const f of fired) {
      expect(f.fireLabels.length).toBeGreaterThan(0);
      expect(f.episodes).toBeGreaterThan(0);
      expect(f.offers).toBe(f.offeredRows);
      expect(f.offers).toBeGreaterThan(0);
    }
    const suppressions = figures.flatMap((f) => f.suppressedRows);
    expect(suppressions.length).toBeGreaterThan(0);
    expect(suppressions.join('\n')).toMatch(/suppressed: holdout.*holdout group/);
    // the store's zone beside UTC (Chicago is UTC-6 in November)
    expect(await page.$eval('table.decisions tr.offered td', (td) => td.textContent)).toMatch(/^2026-11-23 (\d\d):\d\d2026-11-23 \d\d:\d\d$/);
    expect(await page.$eval('figure.scope figcaption', (c) => c.textContent)).toContain('local zone America/Chicago');
    await page.screenshot({ path: join(out, 'backtest-report.png'), fullPage: true });
    // the picture of docs/rules.md (docs/img/backtest-report.png): the first store's chart and tables
    const first = await page.$('section[data-cpi="curbside-wait-vs-promise"] figure.scope');
    await first!.screenshot({ path: join(out, 'docs-backtest-report.png') });
    await page.close();
  }, 60_000);
});
