// The live page of a running processor fed by the curbside scenario, in Debian's Chromium: the
// firing store, an offer and a suppression with its reason appear on it; a screenshot is saved
// under test-output/live-page/. Also: the JSON carries customer ids and no personal data, and a
// token-protected page refuses a request without the token.
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produce, sleep, waitFor } from '../../support/index.js';
import { launchChromium, testOutputDir } from '../../support/browser.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import type { LiveSnapshot } from '../../../src/ops/live/live-snapshot.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';

describe('live page', () => {
  let browser: Browser;
  let running: RunningProcessor;
  let scenario: ReturnType<typeof opsScenario>;
  let busy: string;

  beforeAll(async () => {
    // the holdout is drawn from the ids: take the first id prefix whose day holds an offer and a
    // suppression (one in eight prefixes has no held-out customer; the page would show none)
    const ruleSet = await exampleRules();
    for (let i = 0; ; i++) {
      scenario = opsScenario(`live-${i}`, { enRoutePerStore: 30 });
      const { decisions } = await uninterrupted(ruleSet, scenario);
      if (decisions.some((d) => d.outcome === 'offered') && decisions.some((d) => d.outcome !== 'offered')) break;
      if (i === 20) throw new Error('no id prefix gives both an offer and a suppression: has the scenario or the holdout changed?');
    }
    busy = scenario.stores.find((s) => s.busy)!.storeId;
    browser = await launchChromium();
    const { settings, topics } = testSettings('live-page', { LIVE_PAGE_TOKEN: 'a-test-token-of-the-live-page' });
    running = await startProcessor({ settings, topics, ruleSet });
    await produce(topics.events, asProduced(scenario.profiles));
    await sleep(1500);
    await produce(topics.events, asProduced(scenario.rest));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
  });

  it('shows the firing store, an offer and a suppression with its reason', async () => {
    const base = `http://127.0.0.1:${running.processor.httpPort}`;
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    await page.goto(`${base}/live?token=a-test-token-of-the-live-page`);
    let last = '';
    const seen = await waitFor(async () => {
      const text = (last = (await page.evaluate('document.body.innerText')) as string);
      const firing = text.includes(busy) && /FIRING/.test(text);
      const offered = /\boffered\b/.test(text);
      const suppressed = /suppressed\s+(holdout|budget|cooldown|customer-cooldown|quiet-hours|frequency-cap|kill-switch)/.test(text);
      return firing && offered && suppressed ? text : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'the firing store, an offer and a suppression on the live page' }).catch((err: Error) => {
      throw new Error(`${err.message}; the page read:\n${last.slice(0, 2000)}`);
    });
    expect(seen).toContain('rules version');
    expect(await page.$$eval('svg.chart', (s) => s.length)).toBeGreaterThan(0);
    expect(await page.$$eval('svg.chart .offer-mark', (s) => s.length)).toBeGreaterThan(0);
    const shot = join(testOutputDir('live-page'), 'live-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    // the picture of docs/operations.md (docs/img/live-page.png): the top of the page, small
    await page.setViewport({ width: 900, height: 760 });
    await page.screenshot({ path: join(testOutputDir('live-page'), 'docs-live-page.png'), clip: { x: 0, y: 0, width: 900, height: 760 } });
    await page.close();
  }, 90_000);

  it('serves its JSON with the token only, with customer ids and no personal data', async () => {
    const url = `http://127.0.0.1:${running.processor.httpPort}/live.json`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-of-the-same-len' } })).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: 'Bearer a-test-token-of-the-live-page' } });
    expect(res.status).toBe(200);
    const body = await res.text();
    const snap = JSON.parse(body) as LiveSnapshot;
    expect(snap.decisions.length).toBeGreaterThan(0);
    for (const d of snap.decisions) expect(Object.keys(d).sort()).toEqual(['at', 'customerId', 'offerId', 'outcome', 'ruleId', 'ruleVersion', 'scope', 'scopeTag', 'value', ...(d.reason ? ['reason'] : [])].sort());
    // the scenario's profiles carry names and e-mail addresses: none reaches the page
    const customers = scenario.profiles.map((p) => p.event as { type: string; data: Record<string, unknown> }).filter((e) => e.type.startsWith('customer.'));
    expect(customers.length).toBeGreaterThan(0);
    for (const c of customers) for (const field of ['name', 'email']) expect(body).not.toContain(`"${String(c.data[field])}"`);
    expect(body).not.toMatch(/@example\./);
  });
});
