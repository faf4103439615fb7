// Who may read the live page: loopback by default, a bearer token elsewhere, LIVE_PAGE=open or off.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { liveAccess, liveRoutes, REFUSED_MESSAGE } from '../../../../src/ops/live/live-routes.js';
import { LiveState } from '../../../../src/ops/live/live-state.js';
import { loadRuleSet } from '../../../../src/rules/load.js';
import type { RuleSet } from '../../../../src/rules/compiled.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(settings: Parameters<typeof liveRoutes>[0]): Promise<string> {
  const loaded = await loadRuleSet(['rules']);
  if (!loaded.ok) throw new Error('rules');
  const rules: RuleSet = loaded.ruleSet;
  const handle = liveRoutes(settings, new LiveState(), () => rules);
  server = createServer((req, res) => { if (!handle(req, res)) res.writeHead(404).end(); });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('live page access', () => {
  it('decides from LIVE_PAGE, LIVE_PAGE_TOKEN and HTTP_HOST', () => {
    expect(liveAccess({ LIVE_PAGE: 'auto', HTTP_HOST: '127.0.0.1' })).toBe('loopback');
    expect(liveAccess({ LIVE_PAGE: 'auto', HTTP_HOST: '::1' })).toBe('loopback');
    expect(liveAccess({ LIVE_PAGE: 'auto', HTTP_HOST: '0.0.0.0' })).toBe('refused');
    expect(liveAccess({ LIVE_PAGE: 'auto', HTTP_HOST: '0.0.0.0', LIVE_PAGE_TOKEN: 'x'.repeat(16) })).toBe('token');
    expect(liveAccess({ LIVE_PAGE: 'open', HTTP_HOST: '0.0.0.0' })).toBe('open');
    expect(liveAccess({ LIVE_PAGE: 'off', HTTP_HOST: '127.0.0.1', LIVE_PAGE_TOKEN: 'x'.repeat(16) })).toBe('off');
  });

  it('serves the page and its JSON on loopback, no external asset in the page', async () => {
    const base = await serve({ LIVE_PAGE: 'auto', HTTP_HOST: '127.0.0.1' });
    const page = await fetch(`${base}/live`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)=["']?https?:|@import|url\(/);
    const json = await fetch(`${base}/live.json`);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(((await json.json()) as { rules: unknown[] }).rules.length).toBeGreaterThan(0);
  });

  it('answers 403 on a non-loopback bind without a token, 404 when off', async () => {
    const refused = await serve({ LIVE_PAGE: 'auto', HTTP_HOST: '0.0.0.0' });
    const res = await fetch(`${refused}/live.json`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain(REFUSED_MESSAGE);
    await new Promise<void>((r) => server!.close(() => r()));
    const off = await serve({ LIVE_PAGE: 'off', HTTP_HOST: '127.0.0.1' });
    expect((await fetch(`${off}/live`)).status).toBe(404);
  });

  it('asks for the bearer token when one is set (header or ?token=)', async () => {
    const token = 'tok-0123456789abcdef';
    const base = await serve({ LIVE_PAGE: 'auto', HTTP_HOST: '0.0.0.0', LIVE_PAGE_TOKEN: token });
    const bare = await fetch(`${base}/live.json`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(`${base}/live.json`, { headers: { authorization: 'Bearer tok-0123456789abcdeX' } })).status).toBe(401);
    expect((await fetch(`${base}/live.json`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${base}/live?token=${token}`)).status).toBe(200);
  });
});
