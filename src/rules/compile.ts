/**
 * From parsed rule files to the RuleSet the engine runs: every file's own errors, then the event
 * types the files declare (event-declarations.ts), then the ids of all files (so references reach
 * across files), then each CPI and rule checked and compiled
 * (cross-checks.ts), the policy, and the version of the whole set (rule-hash.ts).
 *
 * Pure: no I/O. parse-rule-file.ts turns files into ParsedRuleFiles; this module never sees YAML.
 */
import type { CompiledCpi, CompiledRule } from './compiled.js';
import type { EventTypeRegistry } from '../events/registry.js';
import { Compilation } from './cross-checks.js';
import { declareEventTypes } from './event-declarations.js';
import type { ParsedRuleFile, RuleSetResult } from './parsed-rule-file.js';
import { sortRuleErrors } from './rule-errors.js';
import { ruleSetVersion, shortHash } from './rule-hash.js';
import { CpiDefinition, RuleDefinition } from './schema.js';

export interface CompileOptions {
  /** The e-mail templates rules may name (default: the shipped ones); load.ts adds the folder's. */
  templateNames?: readonly string[];
  /** The templates with offer texts rules may name in `offer.template` (default: the shipped ones). */
  offerTemplateNames?: readonly string[];
}

/** Cross-checks parsed files and, when nothing is wrong, builds the RuleSet. */
export function compileParsedFiles(files: readonly ParsedRuleFile[], options: CompileOptions = {}): RuleSetResult {
  const c = new Compilation();
  if (options.templateNames) c.templateNames = options.templateNames;
  if (options.offerTemplateNames) c.offerTemplateNames = options.offerTemplateNames;
  for (const f of files) c.errors.push(...f.errors);
  c.eventTypes = declareEventTypes(c, files);
  c.brokenEventTypes = new Set(files.flatMap((f) => (f.eventTypes ?? []).filter((t) => t.id !== undefined && !c.eventTypes.has(t.id)).map((t) => t.id!)));

  // Ids first (across files), so references can be checked against every file.
  const cpiById = c.register('CPI', 'cpis', files, (f) => f.cpis);
  const ruleById = c.register('rule', 'rules', files, (f) => f.rules);

  const compiledCpis = new Map<string, CompiledCpi>();
  for (const [id, { file, item }] of cpiById) {
    const cpi = c.compileCpi(file, item.index, c.partial(file, 'cpis', item, CpiDefinition), item.doc !== undefined);
    if (cpi) compiledCpis.set(id, cpi);
  }

  const cpiIds = [...cpiById.keys()];
  const compiledRules: CompiledRule[] = [];
  const lookup = (id: string) => {
    const entry = cpiById.get(id);
    return entry ? { doc: entry.item.doc, cpi: compiledCpis.get(id) } : undefined;
  };
  for (const { file, item } of ruleById.values()) {
    const doc = c.partial(file, 'rules', item, RuleDefinition);
    const rule = c.compileRule(file, item.index, doc, item.doc !== undefined, lookup, cpiIds, item.raw);
    if (rule) compiledRules.push(rule);
  }

  const policy = c.compilePolicy(files);
  const warnings = sortRuleErrors(c.warnings);
  const fileNames = files.map((f) => f.file);
  if (c.errors.length > 0) return { ok: false, errors: sortRuleErrors(c.errors), files: fileNames, warnings };
  return {
    ok: true,
    ruleSet: { cpis: compiledCpis, rules: compiledRules, policy, eventTypes: c.eventTypes, version: withEventTypes(ruleSetVersion(compiledRules, policy), c.eventTypes) },
    files: fileNames,
    warnings,
  };
}

/** A rule set's version changes with its event type declarations too (they change what decodes). */
function withEventTypes(version: string, eventTypes: EventTypeRegistry): string {
  return eventTypes.version === '' ? version : shortHash(`${version}\0${eventTypes.version}`);
}
