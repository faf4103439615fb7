// Rule conditions: the v1 form compiles to one condition, `when` to several, `compare` to a trend;
// and the checks of conditions, with their positions (CPW303, CPW308, CPW311, CPW345-CPW347).
import { describe, expect, it } from 'vitest';
import { compileRuleSources } from '../../../src/rules/load.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

const CPIS = `
cpis:
  - id: wait
    measure:
      duration:
        start: { event: curbside.arrived, correlate: orderId }
        end: { event: curbside.handed-over, correlate: orderId }
        unit: minutes
    groupBy: storeId
    window: 15m
    resolution: 1m
    allowedLateness: 2m
  - id: en-route
    measure: { value: { event: customer.en-route, field: etaSeconds } }
    groupBy: storeId
    window: 10m
    resolution: 1m
  - id: en-route-coarse
    measure: { value: { event: customer.en-route, field: etaSeconds } }
    groupBy: storeId
    window: 10m
    resolution: 5m
  - id: damaged
    measure:
      ratio:
        numerator: { event: delivery.completed, where: { damaged: true } }
        denominator: { event: delivery.completed }
    groupBy: region
    window: 1h
`;

const OFFER = `
    target: { enRoute: {} }
    offer: { kind: drink, code: DRINK, title: A drink on us, expiresAfter: 2h }`;

const rule = (body: string) => `\nrules:\n  - id: r\n${body}${OFFER}\n`;

function compile(text: string): RuleSet {
  const result = compileRuleSources([{ file: 'f.yaml', text }]);
  if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n'));
  return result.ruleSet;
}

function errorsOf(text: string): string[] {
  const result = compileRuleSources([{ file: 'f.yaml', text }]);
  return result.ok ? [] : result.errors.map(formatRuleError);
}

describe('rule conditions', () => {
  it('a v1 rule is one condition, matched with all', () => {
    const [r] = compile(CPIS + rule('    cpi: wait\n    aggregate: p90\n    threshold: { above: 10, clear: 8 }\n    minSamples: 5\n')).rules;
    expect(r!.match).toBe('all');
    expect(r!.conditions).toHaveLength(1);
    expect(r!.conditions[0]).toMatchObject({ aggregate: 'p90', direction: 'above', threshold: 10, clear: 8, minSamples: 5 });
    expect(r!.conditions[0]!.cpi.id).toBe('wait');
    expect(r!.conditions[0]!.compare).toBeUndefined();
  });

  it('when: all and any compile to several conditions; the first is the rule\'s cpi, aggregate and threshold', () => {
    const body = (m: string) => `    when:\n      ${m}:\n        - { cpi: wait, aggregate: p90, threshold: { above: 10 }, minSamples: 5 }\n        - { cpi: en-route, aggregate: count, threshold: { above: 3, clear: 1 } }\n`;
    for (const m of ['all', 'any'] as const) {
      const [r] = compile(CPIS + rule(body(m))).rules;
      expect(r!.match).toBe(m);
      expect(r!.conditions.map((c) => [c.cpi.id, c.aggregate, c.threshold, c.clear, c.minSamples])).toEqual([['wait', 'p90', 10, 10, 5], ['en-route', 'count', 3, 1, 1]]);
      expect([r!.cpi.id, r!.aggregate, r!.threshold, r!.minSamples]).toEqual(['wait', 'p90', 10, 5]);
    }
  });

  it('compare: the named periods, an offset and a baseline, as a ratio or a difference', () => {
    const trend = (to: string, extra = '') => compile(CPIS + rule(`    cpi: wait\n    aggregate: p90\n    threshold: { above: 1.3 }\n    compare: { to: ${to}${extra} }\n`)).rules[0]!.conditions[0]!.compare!;
    expect(trend('previousWindow')).toEqual({ to: { kind: 'offset', offsetMs: 900_000, name: 'previousWindow' }, as: 'ratio', minSamples: 1 });
    expect(trend('sameTimeYesterday').to).toMatchObject({ kind: 'offset', offsetMs: 86_400_000 });
    expect(trend('sameTimeLastWeek').to).toMatchObject({ kind: 'offset', offsetMs: 7 * 86_400_000 });
    expect(trend('{ offset: 3h }', ', as: difference, minSamples: 20')).toEqual({ to: { kind: 'offset', offsetMs: 10_800_000, name: 'offset 3h' }, as: 'difference', minSamples: 20 });
    expect(trend('{ baseline: 7d, of: median }').to).toEqual({ kind: 'baseline', periodMs: 7 * 86_400_000, of: 'median', name: 'median of 7d' });
    expect(trend('{ baseline: 2h }').to).toMatchObject({ of: 'avg', periodMs: 7_200_000 });
  });

  it('a rule set without when or compare compiles to the same versions (rule hashes unchanged)', () => {
    const text = CPIS + rule('    cpi: wait\n    aggregate: p90\n    threshold: { above: 10 }\n');
    // the version of this rule computed by the code before conditions existed (7841830)
    expect(compile(text).rules[0]!.version).toBe('53a9861f83ef');
  });

  it('reports both forms at once, and a v1 rule missing its condition (CPW345)', () => {
    expect(errorsOf(CPIS + rule('    cpi: wait\n    when:\n      all:\n        - { cpi: wait, aggregate: p90, threshold: { above: 10 } }\n'))).toEqual([
      'f.yaml:33:5: CPW345 conditions of the rule: "cpi" beside "when": with when, each condition has its own cpi, aggregate, threshold, minSamples and compare (at rules[0].cpi)',
    ]);
    expect(errorsOf(CPIS + rule('    cpi: wait\n    aggregate: p90\n'))).toEqual([
      'f.yaml:32:5: CPW345 conditions of the rule: the rule needs "threshold" (or "when" with a list of conditions) (at rules[0])',
    ]);
  });

  it('checks each condition of when where it is written: unknown CPI, aggregate kind, clear side (CPW303, CPW311, CPW308)', () => {
    const errors = errorsOf(CPIS + rule(`    when:
      all:
        - { cpi: wiat, aggregate: p90, threshold: { above: 10 } }
        - { cpi: en-route, aggregate: ratio, threshold: { above: 3 } }
        - { cpi: en-route, aggregate: count, threshold: { below: 3, clear: 1 } }
`));
    expect(errors).toEqual([
      'f.yaml:35:18: CPW303 unknown CPI "wiat" (did you mean "wait"?) (at rules[0].when.all[0].cpi)',
      'f.yaml:36:39: CPW311 aggregate ratio does not apply to a value CPI ("en-route"); ratio needs a ratio CPI, here use count, sum, avg, min, max or a percentile (at rules[0].when.all[1].aggregate)',
      'f.yaml:37:76: CPW308 clear threshold 1 is on the wrong side of the fire threshold 3 (for "below", clear must be at least 3) (at rules[0].when.all[2].threshold.clear)',
    ]);
  });

  it('the CPIs of one rule share the scope and the resolution (CPW346)', () => {
    const errors = errorsOf(CPIS + rule(`    when:
      any:
        - { cpi: wait, aggregate: p90, threshold: { above: 10 } }
        - { cpi: damaged, aggregate: ratio, threshold: { above: 3 } }
        - { cpi: en-route-coarse, aggregate: count, threshold: { above: 3 } }
`));
    expect(errors).toEqual([
      'f.yaml:36:18: CPW346 CPI "damaged" (groupBy region) cannot be in one rule with "wait" (groupBy storeId): the conditions of a rule are evaluated together, per scope and step, so their CPIs need the same groupBy and resolution (at rules[0].when.any[1].cpi)',
      'f.yaml:37:18: CPW346 CPI "en-route-coarse" (resolution 5m) cannot be in one rule with "wait" (resolution 1m): the conditions of a rule are evaluated together, per scope and step, so their CPIs need the same groupBy and resolution (at rules[0].when.any[2].cpi)',
    ]);
  });

  it('a compare period falls on a close and within the week kept (CPW347)', () => {
    const trend = (to: string) => errorsOf(CPIS + rule(`    cpi: en-route-coarse\n    aggregate: count\n    threshold: { above: 1.3 }\n    compare: { to: ${to} }\n`));
    expect(trend('{ offset: 90s }')).toEqual([
      'f.yaml:36:30: CPW347 compare period 90s must be a positive multiple of the resolution of "en-route-coarse" (300s), so it falls on a close (at rules[0].compare.to.offset)',
    ]);
    expect(trend('{ baseline: 8d }')).toEqual([
      'f.yaml:36:32: CPW347 compare period 8d must be at most 7d (a week of values is kept per scope) (at rules[0].compare.to.baseline)',
    ]);
  });

  it('threshold tiers compile to a tier per when, each condition keeping its own line where it has no tiers', () => {
    const [r] = compile(CPIS + rule(`    when:
      all:
        - cpi: wait
          aggregate: p90
          threshold: { above: 1.5, clear: 1.2, tiers: [{ when: { valueTier: { in: [gold, platinum] } }, above: 1.1, clear: 1.0 }, { when: { valueTier: silver }, above: 1.3 }] }
        - { cpi: en-route, aggregate: count, threshold: { above: 2 } }
`)).rules;
    expect(r!.tiers!.map((t) => [t.when, t.conditions.map((c) => [c.cpi.id, c.threshold, c.clear])])).toEqual([
      [{ valueTier: { in: ['gold', 'platinum'] } }, [['wait', 1.1, 1.0], ['en-route', 2, 2]]],
      [{ valueTier: 'silver' }, [['wait', 1.3, 1.3], ['en-route', 2, 2]]],
    ]);
    expect(r!.conditions.map((c) => c.threshold)).toEqual([1.5, 2]);
  });

  it('checks tiers where they are written: the side, the clear line, the facts, the same tiers in every condition (CPW348, CPW308, CPW314)', () => {
    const errors = errorsOf(CPIS + rule(`    when:
      all:
        - cpi: wait
          aggregate: p90
          threshold: { above: 1.5, tiers: [{ when: { valueTeir: gold }, below: 1.1 }, { when: { valueTier: silver }, above: 1.3, clear: 1.4 }] }
        - { cpi: en-route, aggregate: count, threshold: { above: 2, tiers: [{ when: { valueTier: gold }, above: 1 }] } }
`));
    expect(errors).toEqual([
      'f.yaml:37:54: CPW314 customer facts (event type customer.profile) have no field "valueTeir" (did you mean "valueTier"?) (at rules[0].when.all[0].threshold.tiers[0].when.valueTeir)',
      'f.yaml:37:73: CPW348 threshold tiers: tier 1 says "below" where the threshold says "above": every tier breaches on the same side, with its own line (at rules[0].when.all[0].threshold.tiers[0].below)',
      'f.yaml:37:137: CPW308 clear threshold 1.4 is on the wrong side of the fire threshold 1.3 (for "above", clear must be at most 1.3) (at rules[0].when.all[0].threshold.tiers[1].clear)',
      'f.yaml:38:69: CPW348 threshold tiers: the tiers of condition 2 differ from those of condition 1: conditions with tiers list the same tiers (the same when, in the same order) (at rules[0].when.all[1].threshold.tiers)',
    ]);
  });
});
