// `cpiwatch test` with declared types: a rule unit test's input events are decoded with the event
// types its rule files declare, so a test of a rule on survey.answered runs (and a test event that
// breaks the declaration is reported at its position, with the declared field named).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFile } from '../../../src/rule-tests/runner.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

const RULES = `eventTypes:
  - type: survey.answered
    fields:
      customerId: { type: id, role: customer }
      storeId: { type: id }
      cesScore: { type: integer, min: 1, max: 7 }
cpis:
  - id: store-effort
    measure:
      value: { event: survey.answered, field: cesScore }
    groupBy: storeId
    window: 10m
    resolution: 1m
rules:
  - id: store-effort-apology
    cpi: store-effort
    aggregate: avg
    threshold: { above: 5 }
    minSamples: 3
    target: { contributors: { within: 10m } }
    offer: { kind: voucher, code: EASIER, title: Sorry it was hard work, expiresAfter: 7d }
`;

const test = (score: number) => `ruleFiles: [effort.yaml]
start: 2026-11-02T12:00:00Z
tests:
  - name: three hard surveys at one store get their customers an apology
    events:
      - { type: survey.answered, time: +0s, repeat: { count: 3, every: 10s }, data: { customerId: "c{n}", storeId: s1, cesScore: ${score} } }
      - { type: survey.answered, time: +2m, data: { customerId: c9, storeId: s2, cesScore: 1 } }
    expect:
      offers:
        - { rule: store-effort-apology, customer: c1, scope: storeId=s1 }
        - { rule: store-effort-apology, customer: c2 }
        - { rule: store-effort-apology, customer: c3 }
`;

function folder(score: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-declared-rule-test-'));
  writeFileSync(join(dir, 'effort.yaml'), RULES);
  writeFileSync(join(dir, 'effort.test.yaml'), test(score));
  return join(dir, 'effort.test.yaml');
}

describe('rule unit tests on a declared type', () => {
  it('decode their events with the declarations of their rule files and pass', async () => {
    const r = await runTestFile(folder(6));
    expect(r.errors.map(formatRuleError)).toEqual([]);
    expect(r.cases.map((c) => [c.name, c.passed])).toEqual([['three hard surveys at one store get their customers an apology', true]]);
  });

  it('report an event that breaks the declaration at its position', async () => {
    const file = folder(8);
    const r = await runTestFile(file);
    expect(r.errors.map(formatRuleError)).toEqual([
      `${file}:6:85: CPW203 input event (repeat 1) is not valid: event data does not match the schema of survey.answered: data.cesScore: expected <= 7, got 8 (at tests[0].events[0].data)`,
    ]);
  });
});
