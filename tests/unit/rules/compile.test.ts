import { describe, expect, it } from 'vitest';
import { compileRuleSources } from '../../../src/rules/load.js';
import { canonicalJson } from '../../../src/rules/rule-hash.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

const CPI = `
cpis:
  - id: curbside-wait
    measure:
      duration:
        start: { event: curbside.arrived, correlate: orderId }
        end: { event: curbside.handed-over, correlate: orderId }
        relativeTo: promisedWaitSeconds
        defaultExpected: 5m
        unit: minutes
    groupBy: storeId
    window: 15m
    resolution: 30s
    allowedLateness: 2m
`;

const RULE = `
rules:
  - id: curbside-drink
    cpi: curbside-wait
    aggregate: p90
    threshold: { above: 1.5 }
    for: 1m30s
    target: { enRoute: { within: 45m } }
    filter: { valueTier: { in: [gold, platinum] } }
    guardrails:
      cooldown: 1d
      budget: { max: 50, per: 1h }
      quietHours: { from: "22:30", to: "07:15" }
    offer:
      kind: complimentary-drink
      code: DRINK
      title: A drink on us
      expiresAfter: 2h
      redemption: { channel: store-bar }
`;

function compile(...texts: string[]): RuleSet {
  const result = compileRuleSources(texts.map((text, i) => ({ file: `f${i}.yaml`, text })));
  if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n'));
  return result.ruleSet;
}

function errorsOf(...texts: string[]): string[] {
  const result = compileRuleSources(texts.map((text, i) => ({ file: `f${i}.yaml`, text })));
  return result.ok ? [] : result.errors.map(formatRuleError);
}

describe('compile', () => {
  it('turns durations into milliseconds and times of day into minutes', () => {
    const { cpis, rules } = compile(CPI + RULE);
    const cpi = cpis.get('curbside-wait')!;
    expect(cpi).toMatchObject({ windowMs: 900_000, resolutionMs: 30_000, latenessMs: 120_000, groupBy: 'storeId' });
    expect(cpi.measure).toEqual({
      kind: 'duration',
      start: { event: 'curbside.arrived', correlate: 'orderId' },
      end: { event: 'curbside.handed-over', correlate: 'orderId' },
      relativeTo: 'promisedWaitSeconds',
      defaultExpectedMs: 300_000,
      maxPendingMs: 7_200_000, // the default 2h
      unitMs: 60_000,
    });
    const rule = rules[0]!;
    expect(rule).toMatchObject({
      id: 'curbside-drink',
      direction: 'above',
      threshold: 1.5,
      clear: 1.5, // defaults to the threshold
      forMs: 90_000,
      minSamples: 1,
      target: { kind: 'enRoute', withinMs: 2_700_000 },
      guardrails: {
        cooldownMs: 86_400_000,
        budget: { max: 50, perMs: 3_600_000 },
        quietHours: { fromMinute: 22 * 60 + 30, toMinute: 7 * 60 + 15, timeZone: 'scope' },
        holdoutPercent: 0,
        killSwitch: false,
      },
      offer: { kind: 'complimentary-drink', code: 'DRINK', expiresAfterMs: 7_200_000, redemption: { channel: 'store-bar' } },
      position: { file: 'f0.yaml', line: 17, col: 5 },
    });
    expect(rule.cpi).toBe(cpi);
    expect(cpi.position).toEqual({ file: 'f0.yaml', line: 3, col: 5 });
  });

  it('defaults the policy when no file sets one, and reads it when one does', () => {
    expect(compile(CPI + RULE).policy).toEqual({ killSwitch: false, defaultTimeZone: 'UTC' });
    const policy = 'policy:\n  customerCooldown: 12h\n  frequencyCap: { max: 3, per: 7d }\n  defaultTimeZone: America/Chicago\n';
    expect(compile(CPI + RULE, policy).policy).toEqual({
      customerCooldownMs: 43_200_000,
      frequencyCap: { max: 3, perMs: 604_800_000 },
      killSwitch: false,
      defaultTimeZone: 'America/Chicago',
    });
  });

  it('lets a contributors target default to the CPI window', () => {
    const rule = RULE.replace('target: { enRoute: { within: 45m } }', 'target: { contributors: {} }');
    expect(compile(CPI + rule).rules[0]!.target).toEqual({ kind: 'contributors', withinMs: 900_000, audience: 'curbside-wait' });
  });

  it('gives a contributors target with its own where an audience of its own', () => {
    const rule = RULE.replace('target: { enRoute: { within: 45m } }', 'target: { contributors: { where: { customerId: { exists: true } } } }');
    expect(compile(CPI + rule).rules[0]!.target).toMatchObject({ kind: 'contributors', audience: `curbside-wait.${compile(CPI + rule).rules[0]!.id}` });
  });

  it('resolves CPIs defined in another file', () => {
    const { rules } = compile(RULE, CPI);
    expect(rules[0]!.cpi.id).toBe('curbside-wait');
  });

  it('drops fields that are not set instead of writing undefined', () => {
    const rule = compile(CPI + RULE).rules[0]!;
    expect('email' in rule).toBe(false);
    expect('terms' in rule.offer).toBe(false);
  });
});

describe('versions', () => {
  const version = (text: string) => compile(text).rules[0]!.version;
  const base = version(CPI + RULE);

  it('are short hex hashes', () => {
    expect(base).toMatch(/^[0-9a-f]{12}$/);
  });

  it('do not change with key order, flow style, quoting, comments or whitespace', () => {
    const reordered = `
# the same rule, written differently
rules:
  - offer: { expiresAfter: 2h, title: "A drink on us", code: DRINK, kind: complimentary-drink, redemption: { channel: store-bar } }
    guardrails:
      quietHours: { to: "07:15", from: "22:30" }
      budget:
        per: 1h
        max: 50
      cooldown: 1d
    filter:
      valueTier:
        in:
          - gold
          - platinum
    target: { enRoute: { within: 45m } }
    for: "1m30s"
    threshold: { above: 1.50 }
    aggregate: p90
    cpi: curbside-wait
    id: curbside-drink
cpis:
  - window: 15m
    groupBy: storeId
    id: curbside-wait
    allowedLateness: 2m
    resolution: 30s
    measure:
      duration:
        unit: minutes
        defaultExpected: 5m
        relativeTo: promisedWaitSeconds
        end: { correlate: orderId, event: curbside.handed-over }
        start: { correlate: orderId, event: curbside.arrived }
`;
    expect(version(reordered)).toBe(base);
  });

  it('do not change when a default is spelt out', () => {
    expect(version(CPI + RULE.replace('for: 1m30s', 'for: 1m30s\n    minSamples: 1'))).toBe(base);
  });

  it('change when the threshold is edited', () => {
    expect(version(CPI + RULE.replace('above: 1.5', 'above: 1.6'))).not.toBe(base);
  });

  it("change when the rule's CPI is edited", () => {
    expect(version(CPI.replace('window: 15m', 'window: 30m') + RULE)).not.toBe(base);
  });

  it('of the rule set change with any rule or the policy, not with file order', () => {
    const a = compile(CPI, RULE).version;
    expect(compile(RULE, CPI).version).toBe(a);
    expect(compile(CPI, RULE.replace('max: 50', 'max: 40')).version).not.toBe(a);
    expect(compile(CPI, RULE, 'policy: { killSwitch: false, customerCooldown: 1h }').version).not.toBe(a);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ f: 1, e: 2 }], c: undefined } })).toBe('{"a":{"d":[{"e":2,"f":1}]},"b":1}');
  });
});

describe('cross-checks across files', () => {
  it('reports a duplicate id in another file with the place of the first', () => {
    expect(errorsOf(CPI + RULE, RULE)).toEqual([
      'f1.yaml:3:9: CPW305 duplicate rule id "curbside-drink" (first defined at f0.yaml:17:9) (at rules[0].id)',
    ]);
  });

  it('reports a second policy', () => {
    expect(errorsOf(CPI + RULE + 'policy: { killSwitch: false }\n', '# policy\npolicy:\n  defaultTimeZone: UTC\n')).toEqual([
      'f1.yaml:2:1: CPW316 policy is already set at f0.yaml:34:1; at most one rule file may set it (at policy)',
    ]);
  });

  it('does not report a rule whose CPI has errors as naming an unknown CPI', () => {
    const broken = CPI.replace('window: 15m', 'window: 15 minutes');
    expect(errorsOf(broken + RULE)).toEqual([
      'f0.yaml:12:13: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found "15 minutes" (did you mean "15m"?) (at cpis[0].window)',
    ]);
  });

  it('still checks the valid parts of a CPI or rule that has errors elsewhere', () => {
    const rule = RULE.replace('threshold:', 'tresholds:').replace('cooldown: 1d', 'cooldown: 1d\n      holdoutPercent: 100');
    const cpi = CPI.replace('window: 15m', 'window: 15 minutes').replace('curbside.arrived', 'curbside.arrival');
    expect(errorsOf(cpi + rule)).toEqual([
      'f0.yaml:6:25: CPW304 unknown event type "curbside.arrival" (did you mean "curbside.arrived"?) (at cpis[0].measure.duration.start.event)',
      'f0.yaml:12:13: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found "15 minutes" (did you mean "15m"?) (at cpis[0].window)',
      'f0.yaml:20:5: CPW302 unknown field "tresholds" (did you mean "threshold"?) (at rules[0].tresholds)',
      'f0.yaml:26:23: CPW309 guardrails can never allow an offer: holdoutPercent is 100, so every customer is held out (at rules[0].guardrails.holdoutPercent)',
    ]);
  });

  it('keeps the items of a file apart (an error in rules[10] is not one in rules[1])', () => {
    const rules = Array.from({ length: 11 }, (_, i) => RULE.replace('rules:\n', i === 0 ? 'rules:\n' : '').replace('curbside-drink', `drink-${i}`));
    const text = CPI + rules.join('').replace(/(id: drink-10[\s\S]*?)above: 1\.5/, '$1above: high');
    const result = compileRuleSources([{ file: 'f.yaml', text }]);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['rules[10].threshold.above']);
  });

  it('sorts errors by file, line and column', () => {
    const errors = errorsOf(RULE.replace('curbside-wait', 'nope'), CPI.replace('storeId', 'storeID') + 'rules: 3\n');
    expect(errors.map((e) => e.split(' ')[0])).toEqual(['f0.yaml:4:10:', 'f1.yaml:11:14:', 'f1.yaml:15:8:']);
  });

  it('reports every kill switch as a warning, never as an error', () => {
    const result = compileRuleSources([
      { file: 'a.yaml', text: CPI + RULE.replace('cooldown: 1d', 'cooldown: 1d\n      killSwitch: true') + 'policy: { killSwitch: true }\n' },
    ]);
    expect(result.ok).toBe(true);
    expect(result.warnings.map(formatRuleError)).toEqual([
      'a.yaml:26:19: warning: CPW319 kill switch is on: rule "curbside-drink" sends no offer (each decision is recorded as suppressed) (at rules[0].guardrails.killSwitch)',
      'a.yaml:35:23: warning: CPW319 kill switch is on: every rule sends no offer (each decision is recorded as suppressed) (at policy.killSwitch)',
    ]);
  });
});
