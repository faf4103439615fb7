import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRuleSet, readRuleSources } from '../../../src/rules/load.js';
import { parseRuleSource } from '../../../src/rules/parse-rule-file.js';
import { deepFlowOffset, RULE_FILE_LIMITS } from '../../../src/rules/parse-yaml.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';
import { RETURNS_CPI as CPI, RETURNS_RULE as RULE } from '../../support/rule-texts.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpiwatch-rules-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(rel: string, text: string): Promise<string> {
  const file = join(dir, rel);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, text);
  return file;
}

describe('readRuleSources', () => {
  it('reads directories recursively and sorted, skipping rule tests, dot files and other extensions', async () => {
    await put('b.yaml', RULE);
    await put('a/cpis.yml', CPI);
    await put('a/returns.test.yaml', 'tests: []');
    await put('.hidden.yaml', 'nonsense: [');
    await put('.git/x.yaml', 'nonsense: [');
    await put('README.md', '# rules');
    const { sources, errors } = await readRuleSources([dir]);
    expect(errors).toEqual([]);
    expect(sources.map((s) => s.file)).toEqual([join(dir, 'a/cpis.yml'), join(dir, 'b.yaml')]);
  });

  it('reads a file named explicitly whatever its name, and each file once', async () => {
    const file = await put('rules.txt', CPI);
    await symlink(file, join(dir, 'link.yaml'));
    const { sources } = await readRuleSources([file, dir, file]);
    expect(sources.map((s) => s.file)).toEqual([file]);
  });

  it('reports missing paths, empty directories and oversized files as file-level errors', async () => {
    await mkdir(join(dir, 'empty'));
    const big = await put('big.yaml', `# ${'x'.repeat(RULE_FILE_LIMITS.maxBytes)}\n`);
    const { sources, errors } = await readRuleSources([join(dir, 'nope.yaml'), join(dir, 'empty'), big]);
    expect(sources).toEqual([]);
    expect(errors.map(formatRuleError)).toEqual([
      `${join(dir, 'nope.yaml')}: CPW321 cannot read rule file: ${join(dir, 'nope.yaml')} does not exist`,
      `${join(dir, 'empty')}: CPW313 no rule files (*.yaml, *.yml) found in ${join(dir, 'empty')}`,
      `${big}: CPW310 rule file is ${RULE_FILE_LIMITS.maxBytes + 3} bytes, more than the limit of ${RULE_FILE_LIMITS.maxBytes}`,
    ]);
  });
});

describe('loadRuleSet', () => {
  it('compiles the files of a directory together', async () => {
    await put('cpis.yaml', CPI);
    await put('rules/returns.yaml', RULE);
    const result = await loadRuleSet([dir]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.files).toEqual([join(dir, 'cpis.yaml'), join(dir, 'rules/returns.yaml')]);
    expect(result.ruleSet.rules.map((r) => r.id)).toEqual(['painful-returns']);
  });

  it('collects the errors of every file, sorted by file, line and column', async () => {
    await put('b.yaml', RULE.replace('above: 4', 'above: four').replace('cpi: returns', 'cpi: retruns'));
    await put('a.yaml', CPI.replace('window: 1d', 'window: 1 day').replace('groupBy', 'groupby'));
    const result = await loadRuleSet([dir, join(dir, 'missing')]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => formatRuleError(e).replace(`${dir}/`, ''))).toEqual([
      'a.yaml:4:5: CPW302 unknown field "groupby" (did you mean "groupBy"?) (at cpis[0].groupby)',
      'a.yaml:5:13: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found "1 day" (did you mean "1d"?) (at cpis[0].window)',
      'b.yaml:3:10: CPW303 unknown CPI "retruns" (did you mean "returns"?) (at rules[0].cpi)',
      'b.yaml:5:25: CPW301 expected a number, found "four" (at rules[0].threshold.above)',
      'missing: CPW321 cannot read rule file: ' + join(dir, 'missing') + ' does not exist',
    ]);
  });
});

describe('parseRuleSource', () => {
  it('refuses an empty file, or one with only whitespace or comments: a save cut short, not "no rules"', () => {
    const why = 'an empty file is taken for a save cut short, not for "no rules"; delete the file to remove its rules';
    expect(parseRuleSource('empty.yaml', '').errors.map(formatRuleError)).toEqual([`empty.yaml:1:1: CPW323 rule file empty.yaml is empty (0 bytes): ${why}`]);
    expect(parseRuleSource('blank.yaml', ' \n\n\t\n').errors.map(formatRuleError)).toEqual([`blank.yaml:1:1: CPW323 rule file blank.yaml is empty (only whitespace): ${why}`]);
    const header = '# yaml-language-server: $schema=../schemas/rule-file.schema.json\n---\n  # more to come\n';
    expect(parseRuleSource('comments.yaml', header).errors.map(formatRuleError)).toEqual([`comments.yaml:1:1: CPW323 rule file comments.yaml is empty (only comments): ${why}`]);
    // a file that says it has nothing is not empty
    for (const text of ['rules: []\n', '{}\n', '# none yet\ncpis: []\n']) expect(parseRuleSource('none.yaml', text).errors, text).toEqual([]);
  });

  it('an empty file in a folder makes the whole rule set invalid, naming the file', async () => {
    await put('cpis.yaml', CPI);
    const empty = await put('rules/returns.yaml', '');
    const result = await loadRuleSet([dir]);
    expect(!result.ok && result.errors.map(formatRuleError)).toEqual([
      `${empty}:1:1: CPW323 rule file ${empty} is empty (0 bytes): an empty file is taken for a save cut short, not for "no rules"; delete the file to remove its rules`,
    ]);
  });

  it('reports an oversized source without parsing it', () => {
    const errors = parseRuleSource('big.yaml', 'a'.repeat(RULE_FILE_LIMITS.maxBytes + 1)).errors;
    expect(errors.map((e) => e.code)).toEqual(['CPW310']);
  });

  it('refuses deep nesting before the YAML parser recurses into it', () => {
    const deep = `cpis: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(parseRuleSource('deep.yaml', deep).errors.map(formatRuleError)).toEqual([
      'deep.yaml:1:71: CPW320 rule file is too complex: nested more than 64 levels deep',
    ]);
    const block = Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(parseRuleSource('block.yaml', block).errors.map((e) => e.code)).toEqual(['CPW320']);
  });

  it('reports a mapping used as a key', () => {
    expect(parseRuleSource('k.yaml', '? [a, b]\n: 1\n').errors.map(formatRuleError)).toEqual([
      'k.yaml:1:3: CPW301 a field name must be plain text, found a list or mapping used as a key',
    ]);
  });

  it('reports an alias with no anchor as a mistake at the alias, not as a file too complex', () => {
    expect(parseRuleSource('u.yaml', 'policy:\n  customerCooldown: 1h\n  frequencyCap: *cap\n').errors.map(formatRuleError)).toEqual([
      'u.yaml:3:17: CPW300 YAML syntax error: alias *cap refers to no anchor (&cap) before it',
    ]);
  });

  it('positions errors inside an anchored block shared through an alias', () => {
    const text = `${CPI}rules:
  - id: one
    cpi: returns
    aggregate: avg
    threshold: { above: 4 }
    target: { contributors: {} }
    offer: &offer { kind: apology, code: sorry, title: Sorry, expiresAfter: 7d }
  - id: two
    cpi: returns
    aggregate: max
    threshold: { above: 9 }
    target: { contributors: {} }
    offer: *offer
`;
    const message = 'CPW301 expected a code made of upper-case letters, digits and dashes (2 to 32 characters), found "sorry" (did you mean "SORRY"?)';
    expect(parseRuleSource('a.yaml', text).errors.map(formatRuleError)).toEqual([
      `a.yaml:13:42: ${message} (at rules[0].offer.code)`,
      `a.yaml:13:42: ${message} (at rules[1].offer.code)`,
    ]);
  });
});

describe('deepFlowOffset', () => {
  it('ignores brackets inside text, quotes and comments', () => {
    const text = `title: Free drink [today] [[[[\nterms: "[[[[[["\n# [[[[[[[[\nx: 'it''s [['\n`;
    expect(deepFlowOffset(text, 2)).toBeUndefined();
    expect(deepFlowOffset('a: [[[x]]]', 2)).toBe(5);
  });
});
