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
import type { CliIo } from '../io.js';

export const VALIDATE_USAGE = `Usage: cpiwatch validate [--format text|json] <file|dir>...

Checks rule files: YAML syntax, every field, and the cross-checks between them (CPIs and event
types that exist, unique ids, window arithmetic, thresholds, guardrails). Directories are searched
recursively for *.yaml and *.yml files; *.test.yaml files (rule unit tests) are skipped.

Options:
  --format text   one line per problem: file:line:col: CODE message (at field.path)   (default)
  --format json   {"valid", "files", "errors": [...], "warnings": [...]} for editors and CI
  -h, --help      show this help

Exit status: 0 valid, 1 invalid, 2 usage error.
`;

type Format = 'text' | 'json';

type Parsed = { help: true } | { help: false; format: Format; paths: string[] } | { error: string };

function parseArgs(argv: readonly string[]): Parsed {
  let format: Format = 'text';
  const paths: string[] = [];
  let optionsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (optionsDone || !arg.startsWith('-') || arg === '-') {
      paths.push(arg);
    } else if (arg === '--') {
      optionsDone = true;
    } else if (arg === '-h' || arg === '--help') {
      return { help: true };
    } else if (arg === '--format' || arg.startsWith('--format=')) {
      const value = arg === '--format' ? argv[++i] : arg.slice('--format='.length);
      if (value !== 'text' && value !== 'json') {
        return { error: value === undefined ? '--format needs a value: text or json' : `unknown format "${value}" (expected text or json)` };
      }
      format = value;
    } else {
      return { error: `unknown option ${arg}` };
    }
  }
  if (paths.length === 0) return { error: 'no rule file or directory given' };
  return { help: false, format, paths };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  if ('error' in args) {
    io.stderr(`cpiwatch validate: ${args.error}\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout(VALIDATE_USAGE);
    return 0;
  }

  const missing: string[] = [];
  for (const path of args.paths) {
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

  const result = await loadRuleSet(args.paths);
  const errors = result.ok ? [] : result.errors;
  const warnings = result.warnings;

  if (args.format === 'json') {
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
}
