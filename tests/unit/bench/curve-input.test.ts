import { describe, expect, it } from 'vitest';
import { CURVE_CPIS, curveEvents, curveRuleFiles } from '../../../bench/curve-input.js';
import { compileRuleSources } from '../../../src/rules/load.js';

describe('bench curve input', () => {
  it.each([1, 10, 100, 1000])('%i rules over 20 CPIs compile, only rule 0 on a CPI the events feed', (rules) => {
    const r = compileRuleSources(curveRuleFiles({ rules, window: '24h', resolution: '1m' }).map((f) => ({ file: f.name, text: f.text })));
    if (!r.ok) throw new Error(JSON.stringify(r.errors.slice(0, 3)));
    expect(r.ruleSet.rules).toHaveLength(rules);
    expect(r.ruleSet.cpis).toHaveLength(CURVE_CPIS);
    const fed = r.ruleSet.rules.filter((x) => x.cpi.id === 'bench-cpi-0' || x.cpi.id === 'bench-cpi-1');
    expect(fed.map((x) => x.id)).toEqual(['bench-rule-0']);
  });

  it('rejects a rule count below 1', () => {
    expect(() => curveRuleFiles({ rules: 0 })).toThrow(/rules must be/);
  });

  it('events: one profile per scope, pairs over the stores in time order, the requested count', () => {
    const ev = curveEvents({ events: 1000, stores: 10, customers: 40, start: 1_700_000_000_000, spanMs: 3_600_000, idPrefix: 't' });
    expect(ev).toHaveLength(10 + 40 + 2 * 475);
    expect(ev.filter((e) => e.event.type === 'store.profile')).toHaveLength(10);
    expect(new Set(ev.filter((e) => e.event.type === 'customer.profile').map((e) => e.key)).size).toBe(40);
    expect(new Set(ev.filter((e) => e.event.type === 'curbside.arrived').map((e) => e.key)).size).toBe(10);
    const times = ev.map((e) => Date.parse(e.event.time));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(3_600_000);
    expect(new Set(ev.map((e) => e.event.id)).size).toBe(ev.length);
  });
});
