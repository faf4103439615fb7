import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors/codes.js';
import { CpiwatchError } from '../../../src/errors/cpiwatch-error.js';

/** The text of every file under a folder whose name ends with one of `ext`. */
function sources(dir: string, ext = ['.ts']): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name), ext) : ext.some((x) => e.name.endsWith(x)) ? [readFileSync(join(dir, e.name), 'utf8')] : []));
}

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

  it('every code is raised somewhere in src/ and named in a test', () => {
    const src = sources('src').filter((t) => !t.includes('export const ErrorCodes = {')).join('\n');
    const tests = sources('tests', ['.ts', '.yaml', '.yml', '.json', '.expected', '.ndjson']).join('\n');
    const raised = (name: string) => new RegExp(`'${name}'|ErrorCodes\\.${name}\\b`).test(src);
    expect(entries.filter(([name]) => !raised(name)).map(([, e]) => e.code)).toEqual([]);
    expect(entries.filter(([name, e]) => !tests.includes(e.code) && !tests.includes(name)).map(([, e]) => e.code)).toEqual([]);
  });
});
