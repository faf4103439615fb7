/**
 * `cpiwatch validate <file|dir>...`: checks rule files and reports every problem in one run.
 *
 *   rules/curbside.yaml:16:5: CPW302 unknown field "tresholds" (did you mean "threshold"?) (at rules[0].tresholds)
 *   FAILED: 1 error in 1 of 3 files
 *
 * Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error (no path, unknown option, a path
 * that does not exist). `--format json` prints one JSON object for editors and CI.
 */
import { stat } from 'node:fs/promises';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError, sortRuleErrors, type RuleError } from '../../rules/rule-errors.js';
import { defineCommand } from '../flags.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const validateCommand = defineCommand({
  name: 'validate',
  usage: ['cpiwatch validate [--format text|json] <file|dir>...'],
  description: `Checks rule files: YAML syntax, every field, and the cross-checks between them (CPIs and event
types that exist, unique ids, window arithmetic, thresholds, guardrails). Directories are searched
recursively for *.yaml and *.yml files; *.test.yaml files (rule unit tests) are skipped.`,
  options: {
    format: {
      type: 'string', choices: ['text', 'json'], default: 'text',
      description: 'text: a line per problem, file:line:col: CODE message (at field.path); json: one object for editors and CI',
    },
  },
  args: { name: '<file|dir>...', min: 1, missing: 'no rule file or directory given' },
  footer: 'Exit status: 0 valid, 1 invalid, 2 usage error.',
}, async ({ format }, paths, io) => {
  const missing: string[] = [];
  for (const path of paths) {
    try {
      await stat(path);
    } catch {
      missing.push(path);
    }
  }
  if (missing.length > 0) {
    for (const path of missing) io.stderr(`cpiwatch validate: no such file or directory: ${path}\n`);
    return 2;
  }

  const result = await loadRuleSet(paths);
  const errors = result.ok ? [] : result.errors;
  const warnings = result.warnings;

  if (format === 'json') {
    const entry = (e: RuleError) => ({ ...e, severity: e.severity ?? 'error' });
    const out = {
      valid: result.ok,
      files: result.files,
      errors: errors.map(entry),
      warnings: warnings.map(entry),
      ...(result.ok
        ? { cpis: result.ruleSet.cpis.size, rules: result.ruleSet.rules.length, version: result.ruleSet.version }
        : {}),
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }

  for (const e of sortRuleErrors([...errors, ...warnings])) io.stdout(`${formatRuleError(e)}\n`);
  const warned = warnings.length > 0 ? `, ${plural(warnings.length, 'warning')}` : '';
  if (result.ok) {
    const { ruleSet } = result;
    io.stdout(
      `OK: ${plural(result.files.length, 'file')}, ${plural(ruleSet.cpis.size, 'CPI')}, ${plural(ruleSet.rules.length, 'rule')}` +
        `${warned} (rule set version ${ruleSet.version})\n`,
    );
    return 0;
  }
  const badFiles = new Set(errors.map((e) => e.file)).size;
  const total = Math.max(result.files.length, badFiles);
  io.stdout(`FAILED: ${plural(errors.length, 'error')} in ${badFiles} of ${plural(total, 'file')}${warned}\n`);
  return 1;
});
