/**
 * One rule file, pure: its YAML (parse-yaml.ts), a file with nothing in it refused (CPW323), then
 * the zod schema of a rule file, then its CPIs, rules, policy and event type declarations as ParsedItems for the
 * cross-checks of compile.ts. Items of a file with errors keep their ids and, when valid on their
 * own, their documents, so one misspelt field does not hide the problems of the other items.
 */
import type { z } from 'zod';
import { EventTypeDeclaration } from '../events/declaration-schema.js';
import type { ParsedItem, ParsedRuleFile } from './parsed-rule-file.js';
import { parseYaml } from './parse-yaml.js';
import { isWithinPath, ruleError, type RuleError } from './rule-errors.js';
import { CpiDefinition, Policy, RuleDefinition, RuleFile, type PolicyDoc } from './schema.js';
import { isRecord } from '../shared/plain-data.js';
import { validateYaml } from './schema-issues.js';

/** Parses one rule file: YAML syntax, size and complexity limits, then the zod schema. Pure. */
export function parseRuleSource(file: string, text: string): ParsedRuleFile {
  const source = parseYaml(file, text);
  const { data, locate } = source;
  if (source.errors.length > 0) return { file, errors: source.errors, cpis: [], rules: [], locate };
  const empty = emptiness(text);
  if (empty !== undefined) return { file, errors: [ruleError('RULE_FILE_EMPTY', { file, line: 1, col: 1 }, file, empty)], cpis: [], rules: [], locate };

  const checked = validateYaml(source, RuleFile);
  const doc = checked.ok ? checked.value : undefined;
  const errors = checked.ok ? [] : checked.errors;
  return {
    file,
    errors,
    cpis: items(data, 'cpis', doc?.cpis, CpiDefinition, errors),
    rules: items(data, 'rules', doc?.rules, RuleDefinition, errors),
    ...policyItem(data, doc?.policy, errors),
    eventTypes: items(data, 'eventTypes', doc?.eventTypes, EventTypeDeclaration, errors, 'type'),
    locate,
  };
}

/**
 * The CPIs or rules of a file, each with its id (when it has one) and its validated document (when
 * the item itself has no error), so cross-checks run on the valid items of a file that has errors,
 * and a rule naming a CPI with an error is not also reported as naming an unknown CPI.
 */
function items<T>(
  data: unknown,
  section: 'cpis' | 'rules' | 'eventTypes',
  parsedAll: T[] | undefined,
  schema: z.ZodType<T>,
  errors: readonly RuleError[],
  idKey = 'id',
): ParsedItem<T>[] {
  const raw = isRecord(data) ? data[section] : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.map((item, index) => {
    const id = isRecord(item) && typeof item[idKey] === 'string' ? item[idKey] : undefined;
    let doc = parsedAll?.[index];
    if (doc === undefined && !errors.some((e) => isWithinPath(e.path, `${section}[${index}]`))) {
      const one = schema.safeParse(item);
      if (one.success) doc = one.data;
    }
    return { index, raw: item, ...(id === undefined ? {} : { id }), ...(doc === undefined ? {} : { doc }) };
  });
}

function policyItem(data: unknown, parsed: PolicyDoc | undefined, errors: readonly RuleError[]): { policy?: ParsedItem<PolicyDoc> } {
  if (!isRecord(data) || data.policy === undefined) return {};
  let doc = parsed;
  if (doc === undefined && !errors.some((e) => isWithinPath(e.path, 'policy'))) {
    const one = Policy.safeParse(data.policy);
    if (one.success) doc = one.data;
  }
  return { policy: { index: 0, ...(doc === undefined ? {} : { doc }) } };
}

/**
 * Why a rule file counts as empty: `0 bytes`, `only whitespace`, or `only comments` (and blank
 * lines, document markers). A file being saved, or truncated by a crash, is read so during a hot
 * reload; taken for a file without rules it would silently drop its rules. A file that says it has
 * none (`rules: []`) is not empty.
 */
function emptiness(text: string): string | undefined {
  if (text.length === 0) return '0 bytes';
  const body = text.replace(/^\uFEFF/, '');
  if (/^\s*$/.test(body)) return 'only whitespace';
  const content = body.split(/\r?\n/).some((line) => !/^\s*(#.*)?$/.test(line) && !/^(---|\.\.\.)\s*(#.*)?$/.test(line));
  return content ? undefined : 'only comments';
}
