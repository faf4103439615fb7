/**
 * Versions of rules and rule sets: short content hashes of canonical JSON (keys sorted, undefined
 * members dropped), so key order, comments and quoting in the YAML do not change them.
 */
import { createHash } from 'node:crypto';
import type { CompiledPolicy, CompiledRule } from './compiled.js';
import type { CpiDefinitionDoc, RuleDefinitionDoc } from './schema.js';

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = norm(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(value));
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * The version of a rule: a hash of the rule and of the CPI it watches (the CPIs of its `when`, in
 * order), after defaults are applied.
 * Key order, comments, quoting and whitespace do not change it; any edit of a value does, and so
 * does spelling out a default differently ("60s" instead of "1m").
 */
export function ruleVersion(rule: RuleDefinitionDoc, cpi: CpiDefinitionDoc | readonly CpiDefinitionDoc[]): string {
  return shortHash(canonicalJson({ rule, cpi }));
}

/** The version of a rule set: a hash of every rule's id and version (sorted) and of the policy. */
export function ruleSetVersion(rules: readonly Pick<CompiledRule, 'id' | 'version'>[], policy: CompiledPolicy): string {
  const versions = rules.map((r) => `${r.id}@${r.version}`).sort();
  return shortHash(canonicalJson({ rules: versions, policy }));
}
