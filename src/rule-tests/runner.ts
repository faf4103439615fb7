/**
 * Runs rule unit tests: each test case feeds its events, in file order, through the real Pipeline on
 * a fresh in-memory store (virtual time, see backtest/replay.ts), then compares the offers and the
 * suppressed decisions with the expected ones. Each case also runs a second time with all its events
 * in one batch: the engine promises results that do not depend on batching, and a difference is
 * reported as a failure.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Decision } from '../actions/decision.js';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import { createReplay } from '../pipeline/replay.js';
import { ErrorCodes } from '../errors/codes.js';
import { CollectingSink } from '../pipeline/collecting-sink.js';
import type { BatchResult, FilteredOut, RuleEvaluationRecord } from '../pipeline/types.js';
import type { RuleSet } from '../rules/compiled.js';
import { didYouMean } from '../rules/did-you-mean.js';
import { loadRuleSet } from '../rules/load.js';
import type { RuleError } from '../rules/rule-errors.js';
import { decisionText, diffDecisions, type DiffLine } from './diff.js';
import { fmt, relTime, scopeText } from './format.js';
import { loadTestFile, type TestFile, type TestInput } from './test-file.js';

export interface CaseResult {
  name: string;
  passed: boolean;
  line: number;
  /** Decisions taken (offers + suppressed). */
  decisions: number;
  offers: DiffLine[];
  suppressed: DiffLine[];
  /** Failures not about the expectations (batch-size dependence). */
  problems: string[];
  /** What the rules did, shown for failed cases: fires, clears, candidates left out by filters. */
  trace: string[];
}

export interface FileResult {
  file: string;
  /** Problems that stopped the file from running (its own or its rule files'). */
  errors: RuleError[];
  cases: CaseResult[];
}

export interface RunOptions {
  /** Overrides every test's batch size. */
  batchSize?: number;
}

/** The *.test.yaml files named by paths (directories searched recursively, sorted). */
export async function findTestFiles(paths: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (/\.test\.ya?ml$/.test(e.name)) files.push(full);
    }
  };
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (!info) missing.push(p);
    else if (info.isDirectory()) await walk(p);
    else files.push(p);
  }
  return { files: [...new Set(files)], missing };
}

export async function runTestFile(file: string, options: RunOptions = {}): Promise<FileResult> {
  let rules: Awaited<ReturnType<typeof loadRuleSet>> | undefined;
  // the rule files first: the test's input events may be of types they declare
  const loaded = await loadTestFile(file, async (ruleFiles) => {
    rules = await loadRuleSet(ruleFiles);
    return rules.ok ? (rules.ruleSet.eventTypes ?? BUILTIN_EVENT_TYPES) : { errors: rules.errors };
  });
  if (!loaded.ok) return { file, errors: loaded.errors, cases: [] };
  const tf = loaded.testFile;
  rules ??= await loadRuleSet(tf.ruleFiles);
  if (!rules.ok) return { file, errors: rules.errors, cases: [] };
  const refErrors = checkRuleRefs(tf, rules.ruleSet);
  if (refErrors.length > 0) return { file, errors: refErrors, cases: [] };
  const cases: CaseResult[] = [];
  for (const t of tf.tests) cases.push(await runCase(t, rules.ruleSet, options));
  return { file, errors: [], cases };
}

function checkRuleRefs(tf: TestFile, ruleSet: RuleSet): RuleError[] {
  const ids = ruleSet.rules.map((r) => r.id);
  return tf.ruleRefs
    .filter((r) => !ids.includes(r.rule))
    .map((r) => {
      const s = didYouMean(r.rule, ids);
      return {
        file: tf.file, ...r.at, path: r.path, code: ErrorCodes.RULE_SCHEMA.code,
        message: `no rule "${r.rule}" in ${tf.ruleFilesAsWritten.join(', ')}${s ? ` (did you mean "${s}"?)` : `; rules: ${ids.join(', ')}`}`,
      };
    });
}

interface Observed {
  decisions: Decision[];
  evaluations: RuleEvaluationRecord[];
  filteredOut: FilteredOut[];
}

async function replay(t: TestInput, ruleSet: RuleSet, batchSize: number): Promise<Observed> {
  const sink = new CollectingSink();
  const r = createReplay(ruleSet, { sink, batchSize });
  const evaluations: RuleEvaluationRecord[] = [];
  const filteredOut: FilteredOut[] = [];
  const collect = (result: BatchResult) => {
    evaluations.push(...result.evaluations);
    filteredOut.push(...result.filteredOut);
  };
  await r.feed(t.messages, collect);
  collect(await r.finish());
  return { decisions: sink.decisions, evaluations, filteredOut };
}


export async function runCase(t: TestInput, ruleSet: RuleSet, options: RunOptions = {}): Promise<CaseResult> {
  const batchSize = options.batchSize ?? t.batchSize;
  const observed = await replay(t, ruleSet, batchSize);
  const problems: string[] = [];
  if (t.messages.length > batchSize) {
    const whole = await replay(t, ruleSet, t.messages.length);
    const key = (d: Decision) => `${d.outcome === 'offered' ? 'offer' : 'suppressed'}  ${decisionText(d, t.start)}`;
    const a = observed.decisions.map(key).sort();
    const b = whole.decisions.map(key).sort();
    if (a.join('\n') !== b.join('\n')) {
      problems.push(`the decisions depend on the batch size (engine bug): batches of ${batchSize} vs one batch of ${t.messages.length}:`);
      for (const k of a.filter((x) => !b.includes(x))) problems.push(`  only with batches of ${batchSize}: ${k}`);
      for (const k of b.filter((x) => !a.includes(x))) problems.push(`  only with one batch: ${k}`);
    }
  }
  const offers = diffDecisions(t.offers, observed.decisions.filter((d) => d.outcome === 'offered'), t.start);
  const suppressed = diffDecisions(t.suppressed, observed.decisions.filter((d) => d.outcome === 'suppressed'), t.start);
  const passed = problems.length === 0 && [...offers, ...suppressed].every((l) => l.kind === 'same');
  return {
    name: t.name,
    passed,
    line: t.at.line,
    decisions: observed.decisions.length,
    offers,
    suppressed,
    problems,
    trace: passed ? [] : traceOf(observed, t.start),
  };
}

/** Fires and clears of every rule, and candidates a filter left out: what happened, in order. */
function traceOf(o: Observed, start: number): string[] {
  const lines: { time: number; text: string }[] = [];
  const last = new Map<string, RuleEvaluationRecord>();
  for (const e of o.evaluations) {
    const name = e.tier === undefined ? e.ruleId : `${e.ruleId} (tier ${e.tier})`;
    last.set(`${name} ${e.scopeTag}`, e);
    if (e.transition === 'fire' || e.transition === 'clear') {
      lines.push({ time: e.at, text: `${name} ${e.transition === 'fire' ? 'fired' : 'cleared'} in ${scopeText(e.scopeTag)} (value ${fmt(e.value)})` });
    }
  }
  for (const f of o.filteredOut) {
    const by = f.tiers ? `a tier that is not theirs (candidate of tier ${f.tiers.candidate}, the customer's tier ${f.tiers.customer})` : "the rule's filter";
    lines.push({ time: f.time, text: `${f.ruleId}: customer ${f.customerId} left out by ${by} (facts: ${f.facts ? JSON.stringify(f.facts) : 'no customer profile'})` });
  }
  lines.sort((a, b) => a.time - b.time);
  const out = lines.map((l) => `${relTime(l.time, start)}  ${l.text}`);
  if (!o.evaluations.some((e) => e.transition === 'fire')) {
    out.push('no rule fired; last evaluation per rule and scope:');
    for (const e of last.values()) out.push(`  ${e.tier === undefined ? e.ruleId : `${e.ruleId} (tier ${e.tier})`} in ${scopeText(e.scopeTag)} at ${relTime(e.at, start)}: value ${fmt(e.value)}, ${e.state.status}`);
    if (last.size === 0) out.push('  (no event of the test fed a CPI of these rules)');
  }
  return out;
}
