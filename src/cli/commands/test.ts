/**
 * `cpiwatch test <file|dir>...`: runs rule unit tests (*.test.yaml) on virtual time.
 *
 *   rules/curbside.test.yaml
 *     ok    a slow store comps a drink to gold customers on the way (3 decisions)
 *     FAIL  quiet hours hold the offer back  (rules/curbside.test.yaml:57)
 *           suppressed (- expected, not taken; + taken, not expected):
 *           - curbside-flash-drink  customer c1  reason quiet-hours
 *           + curbside-flash-drink  customer c1  reason holdout  storeId=S1  value 1.6  at +21m
 *   FAILED: 1 of 9 tests in 1 of 8 files
 *
 * Exit status: 0 every test passed, 1 a test failed or a file is invalid, 2 usage error.
 */
import type { RuleError } from '../../rules/rule-errors.js';
import { formatRuleError, sortRuleErrors } from '../../rules/rule-errors.js';
import { formatDiff } from '../../rule-tests/diff.js';
import { findTestFiles, runTestFile, type CaseResult, type FileResult } from '../../rule-tests/runner.js';
import { defineCommand, usageError } from '../flags.js';

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export const testCommand = defineCommand({
  name: 'test',
  usage: ['cpiwatch test [--batch-size <n>] <file|dir>...'],
  description: `Runs rule unit tests: *.test.yaml files that name the rule files they load, input events with their
times, and the offers and suppressed decisions expected. Each test runs through the real engine on
virtual time with an in-memory store. Directories are searched recursively for *.test.yaml.
See docs/rules.md, "Testing and backtesting".`,
  options: {
    'batch-size': {
      type: 'positive-integer',
      description: 'feed events n at a time (default: the file\'s batchSize, else 1); every test is also run with all its events in one batch, and must give the same decisions',
    },
  },
  args: { name: '<file|dir>...', min: 1, missing: 'no test file or directory given' },
  footer: 'Exit status: 0 all tests passed, 1 a test failed or a file is invalid, 2 usage error.',
}, async ({ 'batch-size': batchSize }, paths, io) => {
  const { files, missing } = await findTestFiles(paths);
  if (missing.length > 0) {
    for (const m of missing) io.stderr(`cpiwatch test: no such file or directory: ${m}`);
    return 2;
  }
  if (files.length === 0) throw usageError(`no *.test.yaml files in ${paths.join(', ')}`);

  const t0 = performance.now();
  const results: FileResult[] = [];
  for (const file of files) {
    const r = await runTestFile(file, batchSize !== undefined ? { batchSize } : {});
    results.push(r);
    io.stdout(formatFileResult(r));
  }
  const cases = results.flatMap((r) => r.cases);
  const failed = cases.filter((c) => !c.passed).length;
  const invalid = results.filter((r) => r.errors.length > 0).length;
  const secs = ((performance.now() - t0) / 1000).toFixed(2);
  if (failed === 0 && invalid === 0) {
    io.stdout(`PASS: ${plural(cases.length, 'test')} in ${plural(files.length, 'file')} (${secs}s)`);
    return 0;
  }
  const parts = [
    ...(failed > 0 ? [`${failed} of ${plural(cases.length, 'test')} failed`] : []),
    ...(invalid > 0 ? [`${invalid} of ${plural(files.length, 'file')} invalid`] : []),
  ];
  io.stdout(`FAILED: ${parts.join(', ')} (${secs}s)`);
  return 1;
});

export function formatFileResult(r: FileResult): string {
  const out: string[] = [r.file];
  if (r.errors.length > 0) {
    for (const e of sortRuleErrors(r.errors as RuleError[])) out.push(`  ${formatRuleError(e)}`);
    out.push(`  INVALID: ${plural(r.errors.length, 'error')}; no test ran`);
  }
  for (const c of r.cases) out.push(...formatCase(r.file, c));
  return `${out.join('\n')}\n`;
}

function formatCase(file: string, c: CaseResult): string[] {
  if (c.passed) return [`  ok    ${c.name} (${plural(c.decisions, 'decision')})`];
  const pad = '        ';
  const out = [`  FAIL  ${c.name}  (${file}:${c.line})`];
  for (const p of c.problems) out.push(`${pad}${p}`);
  for (const [label, lines] of [['offers', c.offers], ['suppressed', c.suppressed]] as const) {
    if (lines.every((l) => l.kind === 'same')) continue;
    out.push(`${pad}${label} (- expected, not taken; + taken, not expected):`);
    for (const l of formatDiff(lines)) out.push(`${pad}${l}`);
  }
  if (c.trace.length > 0) {
    out.push(`${pad}what happened:`);
    for (const t of c.trace) out.push(`${pad}  ${t}`);
  }
  return out;
}
