import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors/codes.js';
import { CpiwatchError } from '../../../src/errors/cpiwatch-error.js';

describe('error registry', () => {
  const entries = Object.entries(ErrorCodes);

  it('codes are unique and well-formed', () => {
    const codes = entries.map(([, e]) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^CPW\d{3}$/);
  });

  it('every code is documented in docs/errors.md', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const missing = entries.filter(([name, e]) => !doc.includes(`| ${e.code} | ${name} |`)).map(([, e]) => e.code);
    expect(missing).toEqual([]);
  });

  it('messages start with the code and carry the retriable flag', () => {
    const err = new CpiwatchError('STORE_UNAVAILABLE', ['connection refused']);
    expect(err.message).toBe('CPW400 state store unavailable: connection refused');
    expect(err.retriable).toBe(true);
    expect(new CpiwatchError('EVENT_NOT_JSON', ['x']).retriable).toBe(false);
  });
});
