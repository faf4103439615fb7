// Logs carry ids (eventId, ruleId, offerId, customerId), never customers' personal data: the redact
// paths cover the fields personal data lives in, e-mail addresses inside any string (an SMTP error
// quoting the recipient) are scrubbed, and every log call in src/ uses only known, safe fields.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/ops/logger.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function capture(): { lines: () => Record<string, unknown>[]; raw: () => string; stream: Writable } {
  let raw = '';
  const stream = new Writable({ write(chunk, _enc, cb) { raw += String(chunk); cb(); } });
  return { stream, raw: () => raw, lines: () => raw.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log redaction', () => {
  it('redacts e-mails and names wherever events, facts and recipients appear', () => {
    const out = capture();
    const log = createLogger('info', out.stream);
    log.info({ email: 'ana@example.com', name: 'Ana Lopez' }, 'top level');
    log.info({ customer: { email: 'ana@example.com', name: 'Ana Lopez' } }, 'nested');
    log.info({ facts: { email: 'ana@example.com', valueTier: 'gold' } }, 'facts');
    log.info({ event: { id: 'e1', data: { email: 'ana@example.com', name: 'Ana' } } }, 'event');
    log.info({ to: 'ana@example.com', offerId: 'o1' }, 'recipient');
    log.info({ settings: { SMTP_PASSWORD: 'x' }, password: 'hunter2' }, 'secret');
    const text = out.raw();
    expect(text).not.toContain('ana@example.com');
    expect(text).not.toContain('Ana Lopez');
    expect(text).not.toContain('hunter2');
    const [top, nested, facts, event, recipient] = out.lines();
    expect(top).toMatchObject({ email: '[redacted]', name: '[redacted]', msg: 'top level' });
    expect(nested!.customer).toEqual({ email: '[redacted]', name: '[redacted]' });
    expect(facts!.facts).toBe('[redacted]');
    expect(event!.event).toEqual({ id: 'e1', data: { email: '[redacted]', name: '[redacted]' } });
    expect(recipient).toMatchObject({ to: '[redacted]', offerId: 'o1' });
  });

  it('scrubs e-mail addresses inside error messages and other strings, and in the message', () => {
    const out = capture();
    const log = createLogger('info', out.stream);
    log.warn({ offerId: 'o1', err: 'Can\'t send mail - all recipients were rejected: 550 <bob.smith+x@mail.example.org>: unknown user' }, 'offer e-mail failed');
    log.error({ err: new Error('rejected carol@example.net') }, 'failed for carol@example.net');
    const text = out.raw();
    expect(text).not.toMatch(/bob\.smith|carol@/);
    const [a, b] = out.lines();
    expect(a!.err).toContain('550 <[email]>: unknown user');
    expect(b!.msg).toBe('failed for [email]');
    expect(JSON.stringify(b!.err)).toContain('rejected [email]');
  });

  it('keeps the ids operators search by', () => {
    const out = capture();
    createLogger('info', out.stream).info({ eventId: 'e-1', ruleId: 'curbside-flash-drink', offerId: 'ofr_1', customerId: 'C-9', topic: 't', partition: 2, offset: 7 }, 'offer published');
    expect(out.lines()[0]).toMatchObject({ level: 'info', service: 'cpiwatch', eventId: 'e-1', ruleId: 'curbside-flash-drink', offerId: 'ofr_1', customerId: 'C-9', topic: 't', partition: 2, offset: 7 });
  });
});

// Every field name passed to a log call in src/ (the keys of `log.x({ ... }, '...')`), checked against
// the fields docs/operations.md documents. A new field holding personal data must not slip in unnoticed.
const SAFE_FIELDS = new Set([
  'eventId', 'ruleId', 'offerId', 'customerId', 'topic', 'partition', 'offset', 'code', 'reason', 'err', 'errors', 'groupId', 'partitions',
  'restart', 'attempt', 'attempts', 'rules', 'outcome', 'signal', 'timeoutMs', 'dependency', 'retryInMs', 'silentMs', 'url', 'settings',
  'version', 'activeVersion', 'previousVersion', 'trigger', 'file', 'path', 'line', 'col', 'source', 'committed', 'decisions',
  'firstOffset', 'lastOffset', 'template',
]);

function srcFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? srcFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('log calls in src/', () => {
  it('use only documented, non-personal fields', () => {
    const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const found = new Map<string, string>();
    for (const file of srcFiles(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\blog\??\.(?:trace|debug|info|warn|error|fatal)\(\{([^}]*)\}/g)) {
        for (const part of m[1]!.split(',')) {
          const key = /^\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)/.exec(part)?.[1];
          if (key) found.set(key, file.slice(ROOT.length + 1));
        }
      }
    }
    expect(found.size).toBeGreaterThan(10);
    const unknown = [...found].filter(([k]) => !SAFE_FIELDS.has(k)).map(([k, f]) => `${k} (${f})`);
    expect(unknown, 'log fields not in the safe list: add them to docs/operations.md and SAFE_FIELDS only if they carry no personal data').toEqual([]);
    const undocumented = [...found.keys()].filter((k) => !docs.includes(`\`${k}\``));
    expect(undocumented, 'log fields missing from docs/operations.md').toEqual([]);
  });
});
