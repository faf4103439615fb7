/**
 * Reading the templates of a rule set from disk: `templates/*.liquid` in each rules folder named
 * (for a rule file named on its own, the `templates/` folder beside it). Only regular files are
 * read; a folder without templates/ has none (the shipped ones still apply).
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ruleError, type RuleError } from '../../rules/rule-errors.js';
import type { TemplateSource } from './template-library.js';

/** The name of the folder beside the rules that holds their templates. */
export const TEMPLATES_FOLDER = 'templates';
/** A template file larger than this is refused (a marketer's e-mail is a few kB). */
export const MAX_TEMPLATE_BYTES = 256 * 1024;

export async function readTemplateSources(paths: readonly string[]): Promise<{ sources: TemplateSource[]; errors: RuleError[] }> {
  const sources: TemplateSource[] = [];
  const errors: RuleError[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    let dir: string;
    try {
      dir = join((await stat(path)).isDirectory() ? path : dirname(path), TEMPLATES_FOLDER);
      const real = await realpath(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      if (!(await stat(real)).isDirectory()) continue;
    } catch {
      continue; // no templates folder (a missing rules path is reported by the rule loader)
    }
    const names = (await readdir(dir)).filter((n) => n.endsWith('.liquid') && !n.startsWith('.')).sort();
    for (const name of names) {
      const file = join(dir, name);
      try {
        const info = await lstat(file);
        if (!info.isFile()) {
          errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: 0, col: 0 }, 'not a regular file; not read'));
        } else if (info.size > MAX_TEMPLATE_BYTES) {
          errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: 0, col: 0 }, `${info.size} bytes, more than the limit of ${MAX_TEMPLATE_BYTES}`));
        } else {
          sources.push({ file, text: await readFile(file, 'utf8') });
        }
      } catch (err) {
        errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: 0, col: 0 }, (err as Error).message));
      }
    }
  }
  return { sources, errors };
}
