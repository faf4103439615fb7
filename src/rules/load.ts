/**
 * Reading rule sets from disk: files and directories to rule sources, then every source parsed
 * (parse-rule-file.ts) and the set cross-checked and compiled (compile.ts). Nothing stops at the
 * first error: every file is parsed and every problem of every file is reported, like Prometheus'
 * rulefmt.
 *
 *   loadRuleSet(paths)            disk -> sources -> compileRuleSources
 *   compileRuleSources(sources)   pure: parseRuleSource for each, then compileParsedFiles
 *   readRuleSources(paths)        disk only: the texts of the rule files
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compileParsedFiles } from './compile.js';
import type { RuleSetResult } from './parsed-rule-file.js';
import { parseRuleSource } from './parse-rule-file.js';
import { RULE_FILE_LIMITS } from './parse-yaml.js';
import { ruleError, sortRuleErrors, type RuleError } from './rule-errors.js';

export interface RuleSource {
  file: string;
  text: string;
}

/** A file given explicitly is always read; a directory contributes its *.yaml and *.yml files. */
function isRuleFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name);
}

/**
 * Reads the rule files named by `paths`: files as given, directories recursively (*.yaml and *.yml,
 * sorted, skipping *.test.yaml rule unit tests and names starting with a dot). A file reached twice
 * is read once. Problems (missing path, unreadable or oversized file, empty directory) come back as
 * file-level RuleErrors (line 0), never as exceptions.
 */
export async function readRuleSources(paths: readonly string[]): Promise<{ sources: RuleSource[]; errors: RuleError[] }> {
  const sources: RuleSource[] = [];
  const errors: RuleError[] = [];
  const seen = new Set<string>();
  const fileLevel = (file: string) => ({ file, line: 0, col: 0 });

  const readOne = async (file: string): Promise<void> => {
    try {
      const real = await realpath(file);
      if (seen.has(real)) return;
      seen.add(real);
      const info = await stat(real);
      if (info.size > RULE_FILE_LIMITS.maxBytes) {
        errors.push(ruleError('RULE_FILE_TOO_LARGE', fileLevel(file), info.size, RULE_FILE_LIMITS.maxBytes));
        return;
      }
      sources.push({ file, text: await readFile(real, 'utf8') });
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(file), ioReason(err)));
    }
  };

  const walk = async (dir: string, visited: Set<string>): Promise<string[]> => {
    const real = await realpath(dir);
    if (visited.has(real)) return []; // a symlink loop
    visited.add(real);
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const found: string[] = [];
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory());
      if (isDir) found.push(...(await walk(full, visited)));
      else if (isRuleFileName(entry.name)) found.push(full);
    }
    return found;
  };

  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(path), ioReason(err)));
      continue;
    }
    if (!info.isDirectory()) {
      await readOne(path);
      continue;
    }
    let files: string[];
    try {
      files = await walk(path, new Set());
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(path), ioReason(err)));
      continue;
    }
    if (files.length === 0) errors.push(ruleError('RULE_NO_FILES', fileLevel(path), path));
    for (const file of files) await readOne(file);
  }
  return { sources, errors };
}

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `${e.path ?? 'the path'} does not exist`;
  if (e?.code === 'EACCES') return `permission denied for ${e.path ?? 'the path'}`;
  if (e?.code === 'EISDIR') return `${e.path ?? 'the path'} is a directory`;
  return e?.message ?? String(err);
}

/**
 * Loads and compiles a rule set from files and directories. Every error of every file is collected
 * and sorted by file, line and column.
 */
export async function loadRuleSet(paths: readonly string[]): Promise<RuleSetResult> {
  const { sources, errors } = await readRuleSources(paths);
  const result = compileRuleSources(sources);
  if (errors.length === 0) return result;
  return {
    ok: false,
    errors: sortRuleErrors([...errors, ...(result.ok ? [] : result.errors)]),
    warnings: result.warnings,
    files: result.files,
  };
}

/** Pure (no I/O): parses and cross-checks rule sources. Used by hot reload, the CLI and tests. */
export function compileRuleSources(sources: readonly RuleSource[]): RuleSetResult {
  return compileParsedFiles(sources.map((s) => parseRuleSource(s.file, s.text)));
}
