/**
 * docs/rules.md is tested: its YAML examples are valid rule language. The CPI, rule and policy
 * examples load together as one rule set; the fragments (a ratio measure, `where` and `filter`
 * predicates) load once put where they belong in those examples; the rule test example is the
 * start of rules/curbside.test.yaml, which `cpiwatch test rules/` runs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadRuleSet } from '../../../src/rules/load.js';
import { fencedBlocks } from '../../support/markdown.js';

const DOC = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8');
const yamlBlocks = fencedBlocks(DOC).filter((b) => b.info === 'yaml');

type Doc = Record<string, unknown> & {
  cpis: Array<Record<string, unknown> & { measure: Record<string, unknown> }>;
  rules: Array<Record<string, unknown>>;
  policy?: Record<string, unknown>;
};

/** The one YAML example whose text starts with `start`. */
function example(start: string): string {
  const found = yamlBlocks.filter((b) => b.body.startsWith(start));
  expect(found.map((b) => b.line), `one yaml example of docs/rules.md starting with ${JSON.stringify(start)}`).toHaveLength(1);
  return found[0]!.body;
}

/** The rule file the CPI, rule and policy examples make together. */
function documented(): Doc {
  return { ...parse(example('cpis:')), ...parse(example('rules:')), ...parse(example('policy:')) } as Doc;
}

async function errorsOf(doc: Doc): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-rules-doc-'));
  writeFileSync(join(dir, 'example.yaml'), stringify(doc));
  const loaded = await loadRuleSet([dir]);
  return loaded.ok ? [] : loaded.errors.map((e) => `${e.path ?? ''} ${e.message}`);
}

describe('docs/rules.md', () => {
  it('has YAML examples that all parse', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(8);
    for (const b of yamlBlocks) expect(() => parse(b.body), `docs/rules.md:${b.line}`).not.toThrow();
  });

  it('its CPI, rule and policy examples load as one valid rule set', async () => {
    const doc = documented();
    expect(await errorsOf(doc)).toEqual([]);
    expect(doc.rules.map((r) => r.cpi)).toEqual(doc.cpis.map((c) => c.id));
  });

  it('its ratio measure and `where` predicate are valid in a CPI', async () => {
    const doc: Doc = { cpis: documented().cpis, rules: [] }; // the example rule watches a p90, which a ratio has not
    const ratio = parse(example('measure:\n  ratio:')) as { measure: { ratio: { numerator: Record<string, unknown> } } };
    const { where } = parse(example('where:')) as { where: unknown };
    ratio.measure.ratio.numerator.where = where;
    doc.cpis[0] = { ...doc.cpis[0]!, measure: ratio.measure, groupBy: 'region' };
    delete doc.cpis[0].unit;
    expect(await errorsOf(doc)).toEqual([]);
  });

  it('its `filter` examples are valid in a rule', async () => {
    for (const source of [example('where:'), example('filter:')]) {
      const doc = documented();
      doc.rules[0] = { ...doc.rules[0]!, filter: (parse(source) as { filter: unknown }).filter };
      expect(await errorsOf(doc), source).toEqual([]);
    }
  });

  it('its trend and `when` examples load with its CPIs, and are the rules of the conditions rule tests', async () => {
    const doc = documented();
    const headingIn = parse(example('- id: heading-in')) as Doc['cpis'];
    const trend = parse(example('- id: slower-than-yesterday')) as Doc['rules'];
    const when = parse(example('- id: slow-and-busy')) as Doc['rules'];
    doc.cpis.push(...headingIn);
    doc.rules.push(...trend, ...when);
    expect(await errorsOf(doc)).toEqual([]);
    // tests/unit/rule-tests/fixtures/conditions.test.yaml tests what they do (its CPI of waits is named wait-vs-promise)
    const fixture = parse(readFileSync('tests/unit/rule-tests/fixtures/conditions.yaml', 'utf8')) as Doc;
    const renamed = JSON.parse(JSON.stringify([...when, ...trend]).replaceAll('curbside-wait-vs-promise', 'wait-vs-promise'));
    expect(renamed).toEqual(fixture.rules);
    expect(headingIn).toEqual(fixture.cpis.filter((c) => c.id === 'heading-in'));
  });

  it('its tiers example loads with its CPIs, and is the rule of the tiers rule tests', async () => {
    const doc = documented();
    const tiered = parse(example('- id: tiered-drink')) as Doc['rules'];
    doc.rules.push(...tiered);
    expect(await errorsOf(doc)).toEqual([]);
    // tests/unit/rule-tests/fixtures/tiers.test.yaml tests what it does (its CPI of waits is named tiered-wait)
    const fixture = parse(readFileSync('tests/unit/rule-tests/fixtures/tiers.yaml', 'utf8')) as Doc;
    expect(JSON.parse(JSON.stringify(tiered).replaceAll('curbside-wait-vs-promise', 'tiered-wait'))).toEqual(fixture.rules);
  });

  it('its rule test example is the start of rules/curbside.test.yaml, which passes in `cpiwatch test rules/`', () => {
    const file = readFileSync('rules/curbside.test.yaml', 'utf8').replace(/^(#.*\n)+/, ''); // after its header comment
    expect(file.startsWith(example('ruleFiles:'))).toBe(true);
  });
});
