/**
 * Hostile rule files: YAML alias bombs, huge files, deep nesting (flow and block), pathological
 * strings in every place the rule language takes a string, and fuzzed mutations of the real rule
 * files. Each is rejected quickly (the time bounds are sanity bounds, far above the usual few ms)
 * with a positioned CPW3xx error, nothing throws, and a running processor's rules stay untouched
 * when such a file lands in its rules directory.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RulesWatcher } from '../../../src/app/rules-watcher.js';
import { createLogger } from '../../../src/ops/logger.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { compileRuleSources, loadRuleSet, type RuleSource } from '../../../src/rules/load.js';
import { RULE_FILE_LIMITS } from '../../../src/rules/parse-yaml.js';
import { formatRuleError, type RuleError } from '../../../src/rules/rule-errors.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';

const BOUND_MS = 2000;
const CURBSIDE = await readFile('rules/curbside.yaml', 'utf8');
const POLICY = await readFile('rules/policy.yaml', 'utf8');

/** Compiles and checks the verdict: rejected, with errors of the given code, quickly, without throwing. */
function rejectQuickly(text: string, code: string | RegExp, file = 'hostile.yaml', boundMs = BOUND_MS): RuleError[] {
  const t0 = performance.now();
  let result: ReturnType<typeof compileRuleSources> | undefined;
  expect(() => { result = compileRuleSources([{ file, text }]); }).not.toThrow();
  const ms = performance.now() - t0;
  expect(ms, `compile took ${ms.toFixed(0)} ms`).toBeLessThan(boundMs);
  expect(result!.ok).toBe(false);
  const errors = (result as { errors: RuleError[] }).errors;
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(e.code).toMatch(/^CPW3\d\d$/);
    expect(e.file).toBe(file);
    const text = formatRuleError(e);
    expect(text.length).toBeLessThan(2000); // never echoes a megabyte back
    expect(text).toMatch(/^hostile\.yaml(:\d+(:\d+)?)?: CPW3\d\d /);
  }
  expect(errors.map((e) => e.code)).toContainEqual(expect.stringMatching(code));
  return errors;
}

describe('hostile rule files are rejected quickly with a clear error', () => {
  it('alias bombs ("billion laughs")', () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const errors = rejectQuickly(`${bomb.join('\n')}\ncpis: *j\n`, 'CPW320');
    expect(errors[0]!.message).toMatch(/alias/);
    // the same bomb inside a real rule's field
    rejectQuickly(CURBSIDE.replace('description: Busy store', `description: *j\nx: &a [1]\ny: ${bomb[0]}`), /CPW3/);
    // a recursive alias
    rejectQuickly('a: &a [*a]\n', /CPW30?0|CPW320/);
  });

  it('files over the size limit, read from disk or given as text', async () => {
    const huge = `${CURBSIDE}\n${'# padding padding padding padding padding padding padding\n'.repeat(Math.ceil(RULE_FILE_LIMITS.maxBytes / 50))}`;
    const errors = rejectQuickly(huge, 'CPW310');
    expect(errors[0]!.message).toMatch(/bytes, more than the limit/);
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-hostile-'));
    try {
      await writeFile(join(dir, 'huge.yaml'), huge);
      const t0 = performance.now();
      const loaded = await loadRuleSet([dir]);
      expect(performance.now() - t0).toBeLessThan(BOUND_MS);
      expect(loaded.ok).toBe(false);
      expect(!loaded.ok && loaded.errors.map((e) => e.code)).toEqual(['CPW310']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a file just under the size limit made of ~6,000 rules is rejected in seconds, not minutes', () => {
    // ~1 MB of distinct, valid-looking rules (each referencing an unknown CPI): 6,000 errors. The
    // worst case the size limit allows: ~3 s here, two thirds of it in the yaml parser (linear).
    const rule = (i: number) => `  - id: r${i}\n    cpi: nope-${i}\n    aggregate: p90\n    threshold: { above: 1 }\n    target: { scopeCustomer: {} }\n    offer: { kind: k, code: C${i % 1000}, title: t, expiresAfter: 1h }\n`;
    let text = 'rules:\n';
    for (let i = 0; text.length < RULE_FILE_LIMITS.maxBytes - 300; i++) text += rule(i);
    rejectQuickly(text, 'CPW303', 'hostile.yaml', 4 * BOUND_MS);
  });

  it('deeply nested flow and block collections', () => {
    rejectQuickly(`cpis: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 'CPW320');
    rejectQuickly(`cpis: ${'{a: '.repeat(5_000)}1${'}'.repeat(5_000)}\n`, 'CPW320');
    let block = 'cpis:\n';
    for (let i = 0; i < 300; i++) block += `${' '.repeat(i + 1)}k${i}:\n`;
    rejectQuickly(`${block}${' '.repeat(302)}leaf\n`, 'CPW320');
    let seq = 'rules:\n';
    for (let i = 0; i < 300; i++) seq += `${' '.repeat(2 * i)}- \n`;
    rejectQuickly(seq, /CPW3/);
  });

  it('pathological strings in every string field', { timeout: 60_000 }, () => {
    const nasty = [
      'a'.repeat(200_000), // long
      `${'1'.repeat(50_000)}x`, // duration regex: digits then a bad unit
      `${'1m'.repeat(40_000)}!`, // repeated units then a mismatch (backtracking bait)
      `${'a.'.repeat(30_000)}!`, // field path: many segments
      `${'a'.repeat(63)}.`.repeat(2000),
      '\u0000\uFFFF\uD800', '\u202Egold', '${jndi:ldap://x}', '<script>alert(1)</script>', '%n%n%n%s', '../../../etc/passwd',
      '!!js/function "function(){}"',
    ];
    const fields = [
      (s: string) => CURBSIDE.replace('id: curbside-wait-vs-promise', `id: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('window: 15m', `window: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('for: 2m', `for: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('groupBy: storeId', `groupBy: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('correlate: orderId }', `correlate: ${JSON.stringify(s)} }`),
      (s: string) => CURBSIDE.replace('valueTier: { in: [gold, platinum] }', `${JSON.stringify(s)}: { in: [gold] }`),
      (s: string) => CURBSIDE.replace('aggregate: p90', `aggregate: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('code: CURBSIDE-DRINK', `code: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('quietHours: { from: "22:00"', `quietHours: { from: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('timeZone: scope', `timeZone: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('event: curbside.arrived', `event: ${JSON.stringify(s)}`),
      (s: string) => CURBSIDE.replace('cooldown: 24h', `${JSON.stringify(s)}: 24h`), // unknown field: did-you-mean on a huge name
    ];
    for (const s of nasty) {
      for (const [i, field] of fields.entries()) {
        const text = field(s);
        const t0 = performance.now();
        const result = compileRuleSources([{ file: 'hostile.yaml', text }, { file: 'policy.yaml', text: POLICY }]);
        const ms = performance.now() - t0;
        expect(ms, `field ${i}, string ${JSON.stringify(s.slice(0, 20))}: ${ms.toFixed(0)} ms`).toBeLessThan(BOUND_MS);
        if (!result.ok) {
          for (const e of result.errors) {
            expect(e.code).toMatch(/^CPW3\d\d$/);
            expect(formatRuleError(e).length).toBeLessThan(2000);
          }
        }
      }
    }
  });

  it('many unknown (long) field names: did-you-mean and positions stay linear, mappings are capped', () => {
    const keys = (n: number, len: number) => Array.from({ length: n }, (_, i) => `    ${'x'.repeat(len)}${i}: 1`).join('\n');
    rejectQuickly(CURBSIDE.replace('    minSamples: 5', `    minSamples: 5\n${keys(900, 250)}`), 'CPW302');
    // 20,000 keys in one mapping: the yaml package's own duplicate check was quadratic (9 s)
    const errors = rejectQuickly(`cpis:\n  - id: a\n${keys(20_000, 1)}\n`, 'CPW320');
    expect(errors[0]!.message).toMatch(/a mapping with 20001 fields \(at most 1000\)/);
    // a megabyte of mappings just under the cap: 84,000 problems, the first 200 reported
    let many = 'cpis:\n';
    for (let m = 0; many.length < RULE_FILE_LIMITS.maxBytes - 20_000; m++) many += `  - id: a${m}\n${keys(990, 1)}\n`;
    const capped = rejectQuickly(many, 'CPW302', 'hostile.yaml', 4 * BOUND_MS); // 1 MB: ~1 s of it is the yaml parser
    expect(capped.length).toBeLessThanOrEqual(RULE_FILE_LIMITS.maxErrors + 1);
    expect(capped.some((e) => /^\d+ more problems not shown/.test(e.message))).toBe(true);
  });

  it('a key given twice is still reported, with its position', () => {
    const errors = rejectQuickly(CURBSIDE.replace('    minSamples: 5', '    minSamples: 5\n    minSamples: 6'), 'CPW300');
    expect(formatRuleError(errors[0]!)).toMatch(/^hostile\.yaml:\d+:5: CPW300 YAML syntax error: field "minSamples" appears twice in the same mapping/);
  });

  it('YAML tags, merge keys, anchors on keys, documents streams, BOMs and binary garbage', () => {
    const cases = [
      '!!python/object/apply:os.system ["rm -rf /"]\n',
      'cpis: !!binary aGVsbG8=\n',
      `<<: {cpis: []}\n${CURBSIDE}`,
      `${CURBSIDE}\n---\n${CURBSIDE}`,
      `\uFEFF\uFEFF${CURBSIDE}`,
      '? [a, b]\n: c\n',
      'cpis: &x\n  - id: a\n    measure: *x\n',
      Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)).toString('latin1'),
      '\t\tcpis:\n\t- x',
      `${'cpis: []\n'.repeat(1000)}`,
    ];
    for (const text of cases) {
      const t0 = performance.now();
      let result: ReturnType<typeof compileRuleSources> | undefined;
      expect(() => { result = compileRuleSources([{ file: 'hostile.yaml', text }]); }).not.toThrow();
      expect(performance.now() - t0).toBeLessThan(BOUND_MS);
      if (!result!.ok) for (const e of result!.errors) expect(e.code).toMatch(/^CPW3\d\d$/);
    }
  });

  it('fuzzed mutations of the real rule files never throw and answer fast', () => {
    const sources: RuleSource[] = [{ file: 'curbside.yaml', text: CURBSIDE }, { file: 'policy.yaml', text: POLICY }];
    const mutate = fc.oneof(
      // splice random text at a random place
      fc.tuple(fc.nat(), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('*a', '&a ', '[', '{', ': ', '- ', '\n  ', '"', "'", '#', '!!str ', '? ', '<<: ', '\t', '|\n', '>-\n', '\u0000', '\uD800')))
        .map(([at, s]) => (t: string) => { const i = at % (t.length + 1); return t.slice(0, i) + s + t.slice(i); }),
      // delete a random range
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 200 })).map(([at, n]) => (t: string) => { const i = at % (t.length + 1); return t.slice(0, i) + t.slice(i + n); }),
      // duplicate a random line many times
      fc.tuple(fc.nat(), fc.integer({ min: 2, max: 500 })).map(([at, n]) => (t: string) => {
        const lines = t.split('\n');
        const i = at % lines.length;
        return [...lines.slice(0, i), ...Array(n).fill(lines[i]), ...lines.slice(i + 1)].join('\n');
      }),
      // replace a scalar value with something odd
      fc.tuple(fc.nat(), fc.oneof(fc.string({ maxLength: 40 }), fc.double().map(String), fc.constantFrom('null', '~', '.nan', '-.inf', '0x1F', '1e999', '[]', '{}', 'yes', 'no', '2001-12-14t21:59:43.10-05:00')))
        .map(([at, v]) => (t: string) => {
          const lines = t.split('\n');
          const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /:\s+\S/.test(l));
          const [line, i] = candidates[at % candidates.length]!;
          lines[i] = line.replace(/:\s+.*$/, `: ${v}`);
          return lines.join('\n');
        }),
    );
    fc.assert(
      fc.property(fc.array(mutate, { minLength: 1, maxLength: 6 }), fc.boolean(), (mutations, withPolicy) => {
        const text = mutations.reduce((t, m) => m(t), CURBSIDE);
        const t0 = performance.now();
        const result = compileRuleSources(withPolicy ? [{ file: 'curbside.yaml', text }, sources[1]!] : [{ file: 'curbside.yaml', text }]);
        expect(performance.now() - t0).toBeLessThan(BOUND_MS);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) {
            expect(e.code).toMatch(/^CPW3\d\d$/);
            expect(e.line).toBeGreaterThanOrEqual(0);
            expect(formatRuleError(e).length).toBeLessThan(4000);
          }
        }
      }),
      { numRuns: Number(process.env.CPIWATCH_FUZZ_RUNS ?? 150), seed: Number(process.env.CPIWATCH_FUZZ_SEED ?? 4242) },
    );
  }, 60_000);
});

describe('a hostile rule file dropped into a running processor\'s rules directory', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'cpiwatch-hostile-rules-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('is rejected; the running rules keep their version and keep producing the same offers', async () => {
    await writeFile(join(dir, 'curbside.yaml'), CURBSIDE);
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const start = Date.UTC(2026, 10, 23, 18, 0, 0);
    const messages = curbsideScenario({ start, idPrefix: 'hr' }).events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } }));

    const reference = new CollectingSink();
    const once = createReplay(loaded.ruleSet, { sink: reference, batchSize: messages.length });
    await once.feed(messages);
    await once.finish();
    expect(reference.offers.length).toBeGreaterThan(0);

    const sink = new CollectingSink();
    const replay = createReplay(loaded.ruleSet, { sink, batchSize: messages.length });
    let active: RuleSet = loaded.ruleSet;
    const watcher = new RulesWatcher({
      path: dir, current: () => active, apply: (rs) => { active = rs; replay.engine.setRules(rs); }, log: createLogger('silent'), signal: null, debounceMs: 10,
    });
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const hostile = [
      `${bomb.join('\n')}\n`,
      `cpis: ${'['.repeat(50_000)}`,
      'x'.repeat(RULE_FILE_LIMITS.maxBytes + 1),
      CURBSIDE.replace('above: 1.25', 'above: ".nan"'),
      CURBSIDE.replace('window: 15m', `window: ${'1m'.repeat(20_000)}!`),
    ];
    const half = Math.floor(messages.length / 2);
    await replay.step(messages.slice(0, half));
    for (const [i, text] of hostile.entries()) {
      await writeFile(join(dir, i === 3 || i === 4 ? 'curbside.yaml' : `evil-${i}.yaml`), text);
      const t0 = performance.now();
      const r = await watcher.reload('test');
      expect(performance.now() - t0).toBeLessThan(BOUND_MS);
      expect(r.result).toBe('rejected');
      expect(active).toBe(loaded.ruleSet);
      expect(replay.engine.ruleSetInUse.version).toBe(loaded.ruleSet.version);
    }
    await replay.step(messages.slice(half));
    await replay.finish();
    await watcher.stop();
    expect(sink.decisions.map((d) => `${d.offerId} ${d.outcome} ${d.rule.version}`)).toEqual(reference.decisions.map((d) => `${d.offerId} ${d.outcome} ${d.rule.version}`));
  });
});
