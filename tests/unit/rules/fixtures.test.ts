/**
 * Every tests/fixtures/rules/*.bad.yaml produces exactly the lines of its .bad.expected file (errors
 * and warnings, positions included); every *.good.yaml validates without errors or warnings.
 * After a deliberate change of messages, regenerate with UPDATE_RULE_FIXTURES=1 and review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateCommand } from '../../../src/cli/commands/validate.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/rules/', import.meta.url));
const names = readdirSync(FIXTURES).sort();
const bad = names.filter((n) => n.endsWith('.bad.yaml'));
const good = names.filter((n) => n.endsWith('.good.yaml'));

async function validate(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await validateCommand(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  // Fixture files are named relative to their folder, wherever the tests run from.
  const lines = stdout.split(FIXTURES).join('').split('\n').filter((l) => l !== '');
  return { code, lines, stderr };
}

describe('rule file fixtures', () => {
  it('has at least 12 bad and a few good fixtures', () => {
    expect(bad.length).toBeGreaterThanOrEqual(12);
    expect(good.length).toBeGreaterThanOrEqual(3);
  });

  it.each(bad)('%s reports exactly its expected errors', async (name) => {
    const { code, lines, stderr } = await validate(join(FIXTURES, name));
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const summary = lines.pop();
    expect(summary).toMatch(/^FAILED: \d+ errors? in 1 of 1 file/);
    const expectedFile = join(FIXTURES, name.replace(/\.yaml$/, '.expected'));
    if (process.env.UPDATE_RULE_FIXTURES === '1') writeFileSync(expectedFile, `${lines.join('\n')}\n`);
    const expected = readFileSync(expectedFile, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toEqual(expected);
  });

  it.each(good)('%s is valid', async (name) => {
    const { code, lines } = await validate(join(FIXTURES, name));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^OK: 1 file, \d+ CPIs?, \d+ rules?/);
    expect(code).toBe(0);
  });

  it('the good fixtures are valid together (no duplicate ids, one policy)', async () => {
    const { code, lines } = await validate(...good.map((n) => join(FIXTURES, n)));
    expect(lines.join('\n')).toMatch(/^OK: /);
    expect(code).toBe(0);
  });
});
