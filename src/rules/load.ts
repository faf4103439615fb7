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
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { EmailTemplates, templateNamesOf } from '../actions/email/template-library.js';
import { readTemplateSources } from '../actions/email/template-folder.js';
import { compileParsedFiles, type CompileOptions } from './compile.js';
import { defaultTemplateNames } from './email-templates.js';
import type { RuleSetResult } from './parsed-rule-file.js';
import { parseRuleSource } from './parse-rule-file.js';
import { RULE_FILE_LIMITS } from './parse-yaml.js';
import { shortHash } from './rule-hash.js';
import { asWarning, ruleError, sortRuleErrors, type RuleError } from './rule-errors.js';

export interface RuleSource {
  file: string;
  text: string;
}

export interface ReadRuleOptions {
  /**
   * What happens to an entry of a rules directory that is not a regular file (a FIFO, a socket, a
   * device) or a symbolic link whose real path lies outside the directory: `error` (the default:
   * `validate`, `run` at start and every other command) makes it a CPW321 error; `skip` (hot
   * reload) leaves it unread and reports it in `skipped`, as a CPW321 warning, so that the other
   * files still load. A path named explicitly that is not a regular file is an error either way.
   */
  entries?: 'error' | 'skip';
}

/** A file given explicitly is always read; a directory contributes its *.yaml and *.yml files. */
function isRuleFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name);
}

/** What an entry of a rules directory is, decided from lstat/stat alone (nothing is opened). */
export type RuleEntry =
  | { kind: 'file' }
  | { kind: 'directory'; real: string }
  /** Not read: not a regular file, or a symbolic link out of the rules directory. */
  | { kind: 'refused'; reason: string }
  /** Not a rule file name (README.md, a socket named x.sock): not looked at further. */
  | { kind: 'ignored' };

/** `a FIFO (named pipe)`, `a socket`, ... for an lstat/stat result that is not a regular file. */
export function describeFileType(info: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isDirectory()) return 'a directory';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Whether `real` (a real path) is `rootReal` or inside it. */
export function isInside(real: string, rootReal: string): boolean {
  return real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

/**
 * Classifies the entry `full` (named `name`) of a rules directory whose real path is `rootReal`:
 * lstat first; a symbolic link is followed only when its real path lies inside `rootReal`; only
 * regular files with a rule file name are to be read. A dangling link with a rule file name is a
 * `file`: reading it then reports that it does not exist.
 */
export async function inspectRuleEntry(full: string, name: string, rootReal: string): Promise<RuleEntry> {
  const own = await lstat(full);
  let info = own;
  if (own.isSymbolicLink()) {
    let real: string;
    try {
      real = await realpath(full);
      info = await stat(real);
    } catch {
      return isRuleFileName(name) ? { kind: 'file' } : { kind: 'ignored' };
    }
    if (!info.isDirectory() && !isRuleFileName(name)) return { kind: 'ignored' };
    if (!isInside(real, rootReal)) {
      return { kind: 'refused', reason: `${full} is a symbolic link to ${real}, outside the rules folder ${rootReal}; not followed` };
    }
    if (info.isDirectory()) return { kind: 'directory', real };
  } else if (own.isDirectory()) {
    return { kind: 'directory', real: await realpath(full) };
  }
  if (!isRuleFileName(name)) return { kind: 'ignored' };
  if (info.isFile()) return { kind: 'file' };
  return { kind: 'refused', reason: `${full} is ${describeFileType(info)}, not a regular file; not read` };
}

/**
 * Reads a regular file without ever blocking: opened with O_NONBLOCK (a FIFO or a device swapped in
 * after the type was checked opens at once instead of waiting for a writer), then fstat on the open
 * file decides: anything but a regular file is closed unread.
 */
async function readRegularFile(file: string): Promise<{ text: string } | { problem: 'type'; reason: string } | { problem: 'size'; size: number }> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { problem: 'type', reason: `${file} is ${describeFileType(info)}, not a regular file; not read` };
    if (info.size > RULE_FILE_LIMITS.maxBytes) return { problem: 'size', size: info.size };
    return { text: await handle.readFile('utf8') };
  } finally {
    await handle.close();
  }
}

/**
 * Reads the rule files named by `paths`: files as given, directories recursively (*.yaml and *.yml,
 * sorted, skipping *.test.yaml rule unit tests and names starting with a dot). A file reached twice
 * is read once. Only regular files are read, and symbolic links inside a directory are followed only
 * when they stay inside it (see ReadRuleOptions). Problems (missing path, unreadable, oversized or
 * not regular file, empty directory) come back as file-level RuleErrors (line 0), never as exceptions.
 */
export async function readRuleSources(
  paths: readonly string[],
  options: ReadRuleOptions = {},
): Promise<{ sources: RuleSource[]; errors: RuleError[]; skipped: RuleError[] }> {
  const sources: RuleSource[] = [];
  const errors: RuleError[] = [];
  const skipped: RuleError[] = [];
  const seen = new Set<string>();
  const fileLevel = (file: string) => ({ file, line: 0, col: 0 });

  const readOne = async (file: string): Promise<void> => {
    try {
      const real = await realpath(file);
      if (seen.has(real)) return;
      seen.add(real);
      // the type first (stat opens nothing), then the read itself cannot block either
      const info = await stat(real);
      if (!info.isFile()) {
        errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(file), `${file} is ${describeFileType(info)}, not a regular file; not read`));
        return;
      }
      const read = await readRegularFile(real);
      if ('text' in read) sources.push({ file, text: read.text });
      else if (read.problem === 'size') errors.push(ruleError('RULE_FILE_TOO_LARGE', fileLevel(file), read.size, RULE_FILE_LIMITS.maxBytes));
      else errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(file), read.reason));
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(file), ioReason(err)));
    }
  };

  const refuse = (file: string, reason: string) => {
    const problem = ruleError('RULE_FILE_UNREADABLE', fileLevel(file), reason);
    if (options.entries === 'skip') skipped.push(asWarning(problem));
    else errors.push(problem);
  };

  const walk = async (dir: string, real: string, rootReal: string, visited: Set<string>): Promise<string[]> => {
    if (visited.has(real)) return []; // a symlink loop
    visited.add(real);
    const entries = (await readdir(dir)).filter((name) => !name.startsWith('.'));
    entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const found: string[] = [];
    for (const name of entries) {
      const full = join(dir, name);
      let entry: RuleEntry;
      try {
        entry = await inspectRuleEntry(full, name, rootReal);
      } catch (err) {
        if (isRuleFileName(name)) errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(full), ioReason(err)));
        continue;
      }
      if (entry.kind === 'directory') found.push(...(await walk(full, entry.real, rootReal, visited)));
      else if (entry.kind === 'file') found.push(full);
      else if (entry.kind === 'refused') refuse(full, entry.reason);
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
      const rootReal = await realpath(path);
      files = await walk(path, rootReal, rootReal, new Set());
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(path), ioReason(err)));
      continue;
    }
    if (files.length === 0) errors.push(ruleError('RULE_NO_FILES', fileLevel(path), path));
    for (const file of files) await readOne(file);
  }
  return { sources, errors, skipped };
}

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `${e.path ?? 'the path'} does not exist`;
  if (e?.code === 'EACCES') return `permission denied for ${e.path ?? 'the path'}`;
  if (e?.code === 'EISDIR') return `${e.path ?? 'the path'} is a directory`;
  if (e?.code === 'ENXIO') return `${e.path ?? 'the path'} is not a regular file (no such device or address)`;
  return e?.message ?? String(err);
}

/**
 * Loads and compiles a rule set from files and directories. Every error of every file is collected
 * and sorted by file, line and column. `skipped`: the directory entries left unread under
 * `entries: 'skip'` (CPW321 warnings; always empty otherwise).
 */
export async function loadRuleSet(paths: readonly string[], options: ReadRuleOptions = {}): Promise<RuleSetResult & { skipped: RuleError[] }> {
  const { sources, errors, skipped } = await readRuleSources(paths, options);
  const read = await readTemplateSources(paths);
  const built = EmailTemplates.build(read.sources);
  const templateErrors = [...read.errors, ...(built.ok ? [] : built.errors)];
  // templates that do not build: their names still count (a rule naming one is not reported too)
  const named = templateNamesOf(read.sources);
  const templateNames = built.ok ? built.templates.namesFor('email') : [...new Set([...defaultTemplateNames('email'), ...named])];
  const offerTemplateNames = built.ok ? built.templates.namesFor('offer') : [...new Set([...defaultTemplateNames('offer'), ...named])];
  const result = withTemplates(compileRuleSources(sources, { templateNames, offerTemplateNames }), built.ok ? built.templates : undefined, read.sources.length > 0);
  if (errors.length === 0 && templateErrors.length === 0) return { ...result, skipped };
  return {
    ok: false,
    errors: sortRuleErrors([...errors, ...templateErrors, ...(result.ok ? [] : result.errors)]),
    warnings: result.warnings,
    files: result.files,
    skipped,
  };
}

/** The rule set with its templates; their version joins the set's when the folder has any. */
function withTemplates(result: RuleSetResult, templates: EmailTemplates | undefined, own: boolean): RuleSetResult {
  if (!result.ok || !templates) return result;
  const version = own ? shortHash(`${result.ruleSet.version}\0${templates.version}`) : result.ruleSet.version;
  return { ...result, ruleSet: { ...result.ruleSet, templates, version } };
}

/** Pure (no I/O): parses and cross-checks rule sources. Used by hot reload, the CLI and tests. */
export function compileRuleSources(sources: readonly RuleSource[], options: CompileOptions = {}): RuleSetResult {
  return compileParsedFiles(sources.map((s) => parseRuleSource(s.file, s.text)), options);
}
