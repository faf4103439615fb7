import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { parseTestFile } from '../../../src/rule-tests/test-file.js';
import { runTestFile } from '../../../src/rule-tests/runner.js';

const FIXTURES = 'tests/unit/rule-tests/fixtures';

const cli = (...argv: string[]) => runCli(argv);

describe('cpiwatch test', () => {
  it('passes every rule unit test of the example rules (rules/*.test.yaml, examples/rules/*.test.yaml)', async () => {
    const { code, out } = await cli('test', 'rules/', 'examples/rules/');
    expect(out).not.toMatch(/FAIL|INVALID/);
    expect(out).toMatch(/^PASS: \d+ tests in \d+ files?/m);
    expect(code).toBe(0);
  });

  it('gives the same decisions whatever the batch size (engine: candidates joining around a fire)', async () => {
    for (const size of ['1', '2', '7', '1000']) {
      const { code, out } = await cli('test', '--batch-size', size, `${FIXTURES}/batching.test.yaml`, `${FIXTURES}/guardrails.test.yaml`, `${FIXTURES}/conditions.test.yaml`, `${FIXTURES}/tiers.test.yaml`, 'rules/', 'examples/rules/');
      expect(out, `batch size ${size}`).not.toMatch(/FAIL/);
      expect(code).toBe(0);
    }
  });

  it('prints a diff of expected against actual decisions, and what the rules did', async () => {
    const { code, out } = await cli('test', `${FIXTURES}/failing.test.yaml`);
    expect(code).toBe(1);
    expect(out).toContain(`FAIL  expects the wrong customer  (${FIXTURES}/failing.test.yaml:5)`);
    expect(out).toContain('        - curbside-flash-drink  customer c9\n');
    expect(out).toMatch(/ {8}\+ curbside-flash-drink {2}customer c1 {2}storeId=S1 {2}value 1\.99\d* {2}at \+16m\n/);
    expect(out).toContain('+16m  curbside-flash-drink fired in storeId=S1');
    expect(out).toContain(`customer c2 left out by the rule's filter (facts: {"valueTier":"silver","lifetimeValue":400})`);
    expect(out).toContain('        - curbside-flash-drink  customer c1  value >1.25\n');
    // the last evaluation: the window's content did not change after +3m, so the closes after it,
    // which would have evaluated the same, were skipped (stream-time/next-close.ts)
    expect(out).toContain('no rule fired; last evaluation per rule and scope:\n            curbside-flash-drink in storeId=S1 at +3m: value none, inactive');
    expect(out).toMatch(/^FAILED: 2 of 2 tests failed/m);
  });

  it('checks the title an offer is published with (rendered from offer.template), and shows it in the diff', async () => {
    const { code, out } = await cli('test', `${FIXTURES}/titles.test.yaml`);
    expect(code).toBe(1);
    expect(out).toContain('        - slow-shipping-voucher  customer c1  title "Zoé, free shipping on your next order"\n');
    expect(out).toContain('        + slow-shipping-voucher  customer c1  region=north  value 50  at +2d5h30m  title "Zoé, la livraison offerte sur votre prochaine commande"\n');
    expect(out).toContain('  ok    the title of each customer of a repeat, the default text without a profile (20 decisions)');
    expect(out).toMatch(/^FAILED: 1 of 2 tests failed/m);
  });

  it('reports every problem of an invalid test file as file:line:col, with did-you-mean', async () => {
    const { code, out } = await cli('test', `${FIXTURES}/invalid.test.yaml`);
    expect(code).toBe(1);
    const f = `${FIXTURES}/invalid.test.yaml`;
    expect(out.split('\n').filter((l) => l.startsWith(`  ${f}:`)).map((l) => l.trim())).toEqual([
      `${f}:6:17: CPW202 input event is not valid: unknown event type "curbside.arived" (did you mean "curbside.arrived"?) (at tests[0].events[0].type)`,
      `${f}:7:41: CPW301 expected an RFC 3339 time such as 2026-11-23T18:05:00Z, or an offset from the start such as "+5m" or "+1h30m", found "5 minutes" (at tests[0].events[1].time)`,
      `${f}:8:56: CPW203 input event is not valid: event data does not match the schema of curbside.handed-over: data.orderId: missing (expected string) (at tests[0].events[2].data)`,
      `${f}:10:7: CPW302 unknown field "ofers" (did you mean "offers"?) (at tests[0].expect.ofers)`,
      `${f}:12:63: CPW301 expected one of kill-switch, holdout, quiet-hours, cooldown, customer-cooldown, frequency-cap, budget, found "holdot" (did you mean "holdout"?) (at tests[0].expect.suppressed[0].reason)`,
    ]);
    expect(out).toContain('INVALID: 5 errors; no test ran');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli('test')).code).toBe(2);
    expect((await cli('test', 'no/such/dir')).code).toBe(2);
    expect((await cli('test', '--batch-size', '0', 'rules/')).code).toBe(2);
    expect((await cli('test', '--bogus', 'rules/')).code).toBe(2);
    expect((await cli('test', 'src/cli')).code).toBe(2); // no *.test.yaml there
    expect((await cli('test', '--help')).code).toBe(0);
  });
});

describe('rule test files', () => {
  it('expands repeated events with {n} and counts offsets from the start', () => {
    const parsed = parseTestFile('x.test.yaml', [
      'ruleFiles: [r.yaml]',
      'start: 2026-11-23T18:00:00Z',
      'tests:',
      '  - name: t',
      '    events:',
      '      - { type: curbside.arrived, time: +1m, repeat: { count: 3, every: 30s }, data: { orderId: "o{n}", storeId: S1, customerId: "w{n}" } }',
      '    expect: {}',
    ].join('\n'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const events = parsed.testFile.tests[0]!.messages.map((m) => JSON.parse(String(m.value)) as { time: string; data: { orderId: string } });
    expect(events.map((e) => [e.time, e.data.orderId])).toEqual([
      ['2026-11-23T18:01:00.000Z', 'o1'], ['2026-11-23T18:01:30.000Z', 'o2'], ['2026-11-23T18:02:00.000Z', 'o3'],
    ]);
    expect(parsed.testFile.ruleFiles).toEqual(['r.yaml']);
  });

  it('is read and checked like a rule file: same YAML limits, positions and messages', () => {
    const errors = (text: string) => {
      const parsed = parseTestFile('x.test.yaml', text);
      return parsed.ok ? [] : parsed.errors.map((e) => `${e.line}:${e.col} ${e.code} ${e.message}`);
    };
    expect(errors('ruleFiles: [r.yaml]\nruleFiles: [s.yaml]\n')).toEqual(['2:1 CPW300 YAML syntax error: field "ruleFiles" appears twice in the same mapping']);
    expect(errors(`ruleFiles: ${'['.repeat(100)}`)).toEqual(['1:76 CPW320 rule file is too complex: nested more than 64 levels deep']);
    expect(errors([
      'ruleFiles: [r.yaml]',
      'tests:',
      '  - nmae: t',
      '    events: [{ type: curbside.arrived, time: +1m, data: { orderId: o1, storeId: S1, customerId: c1 } }]',
      '    expect: { offers: [{ rule: r, customer: c1, value: high }] }',
    ].join('\n'))).toEqual([
      '5:56 CPW301 expected a number or a mapping, found "high"',
      '3:5 CPW302 unknown field "nmae" (did you mean "name"?)',
    ]);
  });

  it('rejects expectations naming a rule the rule files do not define', async () => {
    const r = await runTestFile(`${FIXTURES}/unknown-rule.test.yaml`);
    expect(r.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      '9:19 no rule "curbside-flash-drinks" in ../../../../rules/curbside.yaml (did you mean "curbside-flash-drink"?)',
    ]);
  });
});
