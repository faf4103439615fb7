import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateCommand } from '../../../src/cli/commands/validate.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/rules/', import.meta.url));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await validateCommand(argv, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  return { code, stdout: stdout.split(FIXTURES).join(''), stderr };
}

describe('cpiwatch validate', () => {
  it('exits 2 without a path, with an unknown option or a bad format', async () => {
    for (const argv of [[], ['--strict', FIXTURES], ['--format', 'xml', FIXTURES], ['--format']]) {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^cpiwatch validate: .+\n\nUsage: cpiwatch validate/);
      expect(r.stdout).toBe('');
    }
  });

  it('exits 2 when a path does not exist, naming each', async () => {
    const r = await run('nope.yaml', `${FIXTURES}curbside.good.yaml`, 'nope-dir/');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('cpiwatch validate: no such file or directory: nope.yaml\ncpiwatch validate: no such file or directory: nope-dir/\n');
  });

  it('prints help and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: cpiwatch validate/);
  });

  it('exits 0 on valid files with a summary', async () => {
    const r = await run(`${FIXTURES}curbside.good.yaml`, `${FIXTURES}support.good.yaml`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK: 2 files, 3 CPIs, 4 rules \(rule set version [0-9a-f]{12}\)\n$/);
  });

  it('exits 1 with one line per problem and a summary', async () => {
    const r = await run(`${FIXTURES}hysteresis.bad.yaml`, `${FIXTURES}curbside.good.yaml`);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      'hysteresis.bad.yaml:16:37: CPW308 clear threshold 0.6 is on the wrong side of the fire threshold 0.7 (for "below", clear must be at least 0.7) (at rules[0].threshold.clear)',
      'hysteresis.bad.yaml:23:37: CPW308 clear threshold 600 is on the wrong side of the fire threshold 500 (for "above", clear must be at most 500) (at rules[1].threshold.clear)',
      'FAILED: 2 errors in 1 of 2 files',
      '',
    ]);
  });

  it('prints one JSON object with --format json', async () => {
    const r = await run('--format=json', `${FIXTURES}guardrails.bad.yaml`);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.files).toEqual(['guardrails.bad.yaml']); // run() strips the fixture folder
    expect(out.errors).toHaveLength(4);
    expect(out.errors[0]).toEqual({
      file: 'guardrails.bad.yaml',
      line: 18,
      col: 22,
      path: 'rules[0].guardrails.budget.max',
      code: 'CPW309',
      message: 'guardrails can never allow an offer: budget.max is 0, so no offer ever fits in the budget',
      severity: 'error',
    });
    expect(out.warnings).toEqual([expect.objectContaining({ code: 'CPW319', severity: 'warning', line: 37 })]);

    const ok = await run('--format', 'json', `${FIXTURES}per-customer.good.yaml`);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      valid: true,
      files: ['per-customer.good.yaml'],
      errors: [],
      warnings: [],
      cpis: 2,
      rules: 1,
      version: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
  });

  it('validates the example rules shipped under rules/', async () => {
    const rules = fileURLToPath(new URL('../../../rules/', import.meta.url));
    const r = await run(rules);
    expect(r.stdout).toMatch(/^OK: /);
    expect(r.code).toBe(0);
  });
});
