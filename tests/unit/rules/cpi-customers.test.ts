// `customers` on a CPI: compiled onto the CPI (and onto the rule version of its rules), checked
// where it is written: fields of the customer's facts with hints, conditions that can never
// match, and event types that name no customer (CPW314, CPW317, CPW349).
import { describe, expect, it } from 'vitest';
import { compileRuleSources } from '../../../src/rules/load.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

const cpi = (customers: string, measure = `
      duration:
        start: { event: curbside.arrived, correlate: orderId }
        end: { event: curbside.handed-over, correlate: orderId }`) => `
cpis:
  - id: wait
    measure:${measure}
    groupBy: storeId
    window: 15m
    resolution: 1m
    allowedLateness: 2m
${customers}
rules:
  - id: r
    cpi: wait
    aggregate: p90
    threshold: { above: 10 }
    target: { contributors: {} }
    offer: { kind: drink, code: DRINK, title: A drink on us, expiresAfter: 2h }
`;

function compiled(text: string): RuleSet {
  const result = compileRuleSources([{ file: 'f.yaml', text }]);
  if (!result.ok) throw new Error(result.errors.map(formatRuleError).join('\n'));
  return result.ruleSet;
}

const errorsOf = (text: string): string[] => {
  const result = compileRuleSources([{ file: 'f.yaml', text }]);
  return result.ok ? [] : result.errors.map(formatRuleError);
};

describe('customers on a CPI', () => {
  it('compiles onto the CPI, and changes the version of the rules on it', () => {
    const plain = compiled(cpi(''));
    const gold = compiled(cpi('    customers: { valueTier: { in: [gold, platinum] } }'));
    expect(gold.cpis.get('wait')!.customers).toEqual({ valueTier: { in: ['gold', 'platinum'] } });
    expect(plain.cpis.get('wait')!.customers).toBeUndefined();
    expect(gold.rules[0]!.version).not.toBe(plain.rules[0]!.version);
  });

  it('names fields of the customer facts, with a hint for a near miss, and conditions that can match (CPW314, CPW317)', () => {
    expect(errorsOf(cpi('    customers: { tier: gold, valueTier: { gt: 3 } }'))).toEqual([
      'f.yaml:12:18: CPW314 customer facts (event type customer.profile) have no field "tier" (did you mean "valueTier"?) (at cpis[0].customers.tier)',
      'f.yaml:12:47: CPW317 condition on valueTier can never match: gt compares numbers, and valueTier is one of bronze, silver, gold, platinum (at cpis[0].customers.valueTier.gt)',
    ]);
  });

  it('needs a customer on the events it checks: a value CPI of store staffing cannot have customers (CPW349)', () => {
    const errors = errorsOf(cpi('    customers: { valueTier: gold }', `
      value: { event: store.staffing, field: staffOnShift }`).replace('rules:', `eventTypes:
  - type: store.staffing
    fields:
      storeId: { type: id }
      staffOnShift: { type: number }
rules:`));
    expect(errors).toEqual([
      'f.yaml:10:5: CPW349 customers of CPI "wait": event type store.staffing names no customer (no field with role: customer), so no event of it could be checked; declare the field (docs/events.md, "Declaring event types") or remove customers (at cpis[0].customers)',
    ]);
  });

  it('points a where on a customer fact to customers (CPW314 with a hint)', () => {
    const errors = errorsOf(cpi('', `
      duration:
        start: { event: curbside.arrived, correlate: orderId, where: { customer.valueTier: gold } }
        end: { event: curbside.handed-over, correlate: orderId }`));
    expect(errors).toEqual([
      'f.yaml:6:72: CPW314 event type curbside.arrived has no field "customer.valueTier"; valueTier is a fact of the customer, not a field of the event: to count only the events of some customers, write customers: { valueTier: ... } on the CPI (docs/rules.md, "Customers: a CPI of some customers only") (at cpis[0].measure.duration.start.where["customer.valueTier"])',
    ]);
  });

  it('accepts a duration whose end event may lack its customer (the start names one)', () => {
    expect(errorsOf(cpi('    customers: { valueTier: gold }'))).toEqual([]);
  });
});
