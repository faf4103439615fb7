import { describe, expect, it } from 'vitest';
import { describeValue, formatPath, formatRuleError, isWithinPath, ruleError, sortRuleErrors } from '../../../src/rules/rule-errors.js';

describe('rule errors', () => {
  it('format field paths the way people read them', () => {
    expect(formatPath(['rules', 0, 'guardrails', 'budget', 'max'])).toBe('rules[0].guardrails.budget.max');
    expect(formatPath(['rules', 2, 'filter', 'address.city'])).toBe('rules[2].filter["address.city"]');
    expect(formatPath([])).toBe('');
  });

  it('format one line per error, with the code, the message and the path', () => {
    const e = ruleError('RULE_UNKNOWN_FIELD', { file: 'rules/a.yaml', line: 4, col: 7, path: ['rules', 0, 'tresholds'] }, '"tresholds"', ' (did you mean "threshold"?)');
    expect(formatRuleError(e)).toBe('rules/a.yaml:4:7: CPW302 unknown field "tresholds" (did you mean "threshold"?) (at rules[0].tresholds)');
    expect(formatRuleError({ ...e, severity: 'warning' })).toMatch(/^rules\/a\.yaml:4:7: warning: CPW302 /);
    const whole = ruleError('RULE_FILE_TOO_LARGE', { file: 'big.yaml', line: 0, col: 0 }, 2_000_000, 1_048_576);
    expect(formatRuleError(whole)).toBe('big.yaml: CPW310 rule file is 2000000 bytes, more than the limit of 1048576');
  });

  it('sort by file, then line, then column, keeping the order of ties', () => {
    const at = (file: string, line: number, col: number, message = '') => ({ file, line, col, path: '', code: 'CPW301' as const, message });
    const sorted = sortRuleErrors([at('b', 1, 1), at('a', 9, 1), at('a', 2, 5, 'x'), at('a', 2, 5, 'y'), at('a', 2, 1)]);
    expect(sorted.map((e) => `${e.file}:${e.line}:${e.col}${e.message}`)).toEqual(['a:2:1', 'a:2:5x', 'a:2:5y', 'a:9:1', 'b:1:1']);
  });

  it('tell whether a path lies inside another', () => {
    expect(isWithinPath('rules[1].id', 'rules[1]')).toBe(true);
    expect(isWithinPath('rules[1]', 'rules[1]')).toBe(true);
    expect(isWithinPath('rules[10].id', 'rules[1]')).toBe(false);
    expect(isWithinPath('policyX', 'policy')).toBe(false);
  });

  it('describe found values briefly', () => {
    expect(describeValue('15 minutes')).toBe('"15 minutes"');
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(37)}..." (50 characters)`);
    expect(describeValue(null)).toBe('an empty value');
    expect(describeValue([])).toBe('an empty list');
    expect(describeValue({ a: 1 })).toBe('a mapping');
  });
});
