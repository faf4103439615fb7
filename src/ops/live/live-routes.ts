/**
 * GET /live (the page) and GET /live.json (its data) on the processor's HTTP endpoint, read-only.
 * Access (LIVE_PAGE, LIVE_PAGE_TOKEN; docs/operations.md, "The live page"):
 *   off                  not served (404)
 *   a token set          every request needs Authorization: Bearer <token> (or ?token=<token>), else 401
 *   auto, no token       served on a loopback HTTP_HOST; on another bind 403, saying what to set
 *   open, no token       served on any bind
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Settings } from '../../config/settings.js';
import type { RuleSet } from '../../rules/compiled.js';
import { isLoopbackHost } from '../transport-security.js';
import { livePageHtml, POLL_MS } from './live-page.js';
import { liveSnapshot } from './live-snapshot.js';
import type { LiveState } from './live-state.js';

/** The settings the page's access depends on. */
export interface LiveSettings { LIVE_PAGE: Settings['LIVE_PAGE']; HTTP_HOST: string; LIVE_PAGE_TOKEN?: string | undefined }

export type LiveAccess = 'off' | 'token' | 'loopback' | 'open' | 'refused';

export function liveAccess(s: LiveSettings): LiveAccess {
  if (s.LIVE_PAGE === 'off') return 'off';
  if (s.LIVE_PAGE_TOKEN) return 'token';
  if (s.LIVE_PAGE === 'open') return 'open';
  return isLoopbackHost(s.HTTP_HOST) ? 'loopback' : 'refused';
}

export const REFUSED_MESSAGE = 'the live page is not served on a non-loopback HTTP_HOST without LIVE_PAGE_TOKEN (or LIVE_PAGE=open)';

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token') ?? undefined;
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The live page's handler: true when it answered the request. */
/** The JSON is built at most once per poll interval, however many pages poll it (its charts cost the event loop). */
const CACHE_MS = POLL_MS - 100;

export function liveRoutes(settings: LiveSettings, state: LiveState, rules: () => RuleSet): (req: IncomingMessage, res: ServerResponse) => boolean {
  const access = liveAccess(settings);
  let cached: { at: number; json: string } | undefined;
  const json = () => {
    const now = Date.now();
    if (!cached || now - cached.at >= CACHE_MS) cached = { at: now, json: JSON.stringify(liveSnapshot(state, rules(), { now })) };
    return cached.json;
  };
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/live' && url.pathname !== '/live.json') return false;
    if (access === 'off') return false;
    const text = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${body}\n`);
    if (access === 'refused') { text(403, REFUSED_MESSAGE); return true; }
    if (access === 'token' && !sameToken(tokenOf(req, url), settings.LIVE_PAGE_TOKEN!)) {
      res.setHeader('www-authenticate', 'Bearer realm="cpiwatch live"');
      text(401, 'the live page needs Authorization: Bearer <LIVE_PAGE_TOKEN> (or ?token=)');
      return true;
    }
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (url.pathname === '/live') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'" }).end(livePageHtml());
    } else {
      res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(json());
    }
    return true;
  };
}
