// Security properties that need no services: rule content is data (no eval, no new Function, no
// import of a computed module name anywhere in src/), e-mail templates escape customer values, and
// the HTTP endpoint binds where it is told and serves only read-only GET/HEAD.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfferData } from '../../../src/actions/offer-event.js';
import { renderEmail, shippedTemplateNames } from '../../../src/actions/email/templates.js';
import { Health } from '../../../src/ops/health.js';
import { startHttpServer } from '../../../src/ops/http-server.js';
import { Metrics } from '../../../src/ops/metrics.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|lua)$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('rule content is data', () => {
  it('src/ has no eval, new Function, vm or import() of a computed name', () => {
    const offenders: string[] = [];
    for (const file of files(join(ROOT, 'src'))) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      const where = file.slice(ROOT.length + 1);
      if (/\beval\s*\(/.test(code)) offenders.push(`${where}: eval(`);
      if (/\bnew\s+Function\s*\(|\bFunction\s*\(\s*['"`]/.test(code)) offenders.push(`${where}: new Function`);
      if (/from\s+['"](node:)?vm['"]|require\(['"](node:)?vm['"]\)/.test(code)) offenders.push(`${where}: vm`);
      for (const m of code.matchAll(/\bimport\s*\(\s*([^)]*)\)/g)) {
        if (!/^\s*['"][^'"]+['"]\s*$/.test(m[1]!)) offenders.push(`${where}: import(${m[1]})`);
      }
      if (/loadstring\s*\(/.test(code)) offenders.push(`${where}: Lua loadstring`);
    }
    expect(offenders).toEqual([]);
  });
});

const offer = (over: Partial<OfferData['offer']> = {}): OfferData => ({
  offer: { title: 'A drink on us', code: 'DRINK-1', expiresAt: '2026-01-01T12:00:00Z', ...over },
} as unknown as OfferData);

describe('e-mail templates', () => {
  it.each(shippedTemplateNames())('%s escapes a customer name with markup and a subject with CR/LF', (template) => {
    const mail = renderEmail(template, {
      offer: offer({ title: 'Free <b>drink</b> & "more"', terms: "it's <img src=x onerror=alert(1)>" }),
      facts: { name: '<script>alert("x")</script>' },
      subject: 'Sorry\r\nBcc: victim@example.com\r\n\r\n<html>',
    })!;
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(mail.html).not.toMatch(/<img|<b>/);
    expect(mail.html).toContain('&amp;');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toBe('Sorry Bcc: victim@example.com <html>');
  });

  it('keeps the subject a single line even when it comes from the offer title', () => {
    const mail = renderEmail('generic-offer', { offer: offer({ title: 'Hello\nX-Injected: 1' }) })!;
    expect(mail.subject).toBe('Hello X-Injected: 1');
  });
});

describe('HTTP endpoint', () => {
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  const health = new Health();

  beforeAll(async () => {
    server = await startHttpServer('127.0.0.1', 0, health, new Metrics({ defaultMetrics: false }));
  });
  afterAll(() => server.close());

  function call(method: string, path: string): Promise<{ status: number; body: string; allow?: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, method, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, ...(res.headers.allow ? { allow: res.headers.allow } : {}) }));
      });
      req.on('error', reject);
      req.end(method === 'POST' || method === 'PUT' ? '{}' : undefined);
    });
  }

  it('binds to the configured address only', () => {
    expect(server.server.address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('answers GET and HEAD, refuses every other method', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('HEAD', '/healthz')).status).toBe(200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await call(method, '/metrics');
      expect(r.status, method).toBe(405);
      expect(r.allow).toBe('GET, HEAD');
    }
    expect((await call('GET', '/admin')).status).toBe(404);
  });

  it('/readyz says what is not ready, and turns 200 when everything is', async () => {
    const notReady = await call('GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toMatchObject({ ready: false, checks: { kafka: { ok: false }, redis: { ok: false }, rules: { ok: false } } });
    health.set('kafka', true, 'joined');
    health.set('redis', true, 'PONG');
    health.set('rules', true, '3 rules');
    expect((await call('GET', '/readyz')).status).toBe(200);
    health.set('redis', false, 'ECONNREFUSED');
    const down = JSON.parse((await call('GET', '/readyz')).body) as { checks: { redis: { detail: string } } };
    expect(down.checks.redis.detail).toBe('ECONNREFUSED');
  });
});

describe('the Redis ACL rule', () => {
  it('allows every command the Lua scripts call, and is the one in docs/operations.md', async () => {
    const { REDIS_ACL_COMMANDS, aclRule } = await import('../../../src/ops/redis-acl.js');
    const dir = join(ROOT, 'src/store/redis/lua');
    const called = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.lua'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/redis\.(?:p?call)\(\s*'([A-Za-z]+)'/g)) called.add(m[1]!.toLowerCase());
    }
    expect(called.size).toBeGreaterThan(10);
    expect([...called].filter((c) => !(REDIS_ACL_COMMANDS as readonly string[]).includes(c))).toEqual([]);
    expect(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')).toContain(aclRule());
  });
});
