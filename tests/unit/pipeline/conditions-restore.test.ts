// An owner partition restored from its persisted state goes on exactly as the one that never stopped,
// for rules over several CPIs (one close per scope and close group) and trends (the recorded values,
// persisted an hour of event time per part, h|<cpi>:<aggregate>|<chunk>).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRouting } from '../../../src/cpis/routing.js';
import { decideCandidates, type FactsPort } from '../../../src/pipeline/decide-candidates.js';
import { PartitionTask, type PersistedMeta } from '../../../src/pipeline/partition-task.js';
import { SourceRouter } from '../../../src/pipeline/route.js';
import { taskRulesOf } from '../../../src/pipeline/task-rules.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { compileRuleSources, loadRuleSet } from '../../../src/rules/load.js';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';

const FIXTURE = 'tests/unit/rule-tests/fixtures/conditions';
const TIERS = 'tests/unit/rule-tests/fixtures/tiers.yaml';

describe('rules over several CPIs and trends, across a restore', () => {
  let ruleSet: RuleSet;
  let cases: RawMessage[][];
  let tierCases: RawMessage[][];
  beforeAll(async () => {
    const loaded = await loadRuleSet([`${FIXTURE}.yaml`, TIERS]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    const messagesOf = async (file: string) => {
      const tf = await loadTestFile(file);
      if (!tf.ok) throw new Error(JSON.stringify(tf.errors));
      return tf.testFile.tests.map((t) => [...t.messages]);
    };
    cases = await messagesOf(`${FIXTURE}.test.yaml`);
    tierCases = await messagesOf('tests/unit/rule-tests/fixtures/tiers.test.yaml');
  });

  /** Evaluations and decisions of one pass, one message per batch, restored after message `cut`. */
  async function run(messages: readonly RawMessage[], cut: number | null): Promise<{ out: string[]; parts: Set<string> }> {
    const routing = buildRouting(ruleSet);
    const rules = taskRulesOf(ruleSet, routing);
    const router = new SourceRouter(0, 1);
    const ledger = new MemoryStore();
    let task = new PartitionTask(0, 1);
    const stored = new Map<string, string>();
    const parts = new Set<string>();
    const facts: FactsPort = { factsAt: async (qs) => qs.map((q) => task.entities.get(q.tag)?.facts.at(q.time) ?? null) };
    const out: string[] = [];
    const take = async (evaluations: readonly { ruleId: string; scopeTag: string; at: number; value: number | null; transition?: string }[]) => {
      out.push(...evaluations.map((e) => `${e.ruleId} ${e.scopeTag} ${e.at} ${e.value} ${e.transition ?? ''}`));
      const { decisions } = await decideCandidates(task.takeDecidable(), ruleSet.policy, facts, ledger);
      out.push(...decisions.map((d) => `${d.offerId} ${d.rule.id} ${d.outcome} ${d.time}`));
    };
    for (let i = 0; i < messages.length; i++) {
      const routed = router.route([messages[i]!], routing, { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 });
      const record = routed.records.get(0);
      if (record) await take(task.process(rules, [{ offset: i, record }]).evaluations);
      const write = task.takeWrite();
      for (const [k, v] of write.fields) {
        parts.add(k.slice(k.indexOf('|') + 1).split('|')[0]!);
        if (v === null) stored.delete(k); else stored.set(k, v);
      }
      const meta = JSON.parse(JSON.stringify(write.meta)) as PersistedMeta;
      if (i === cut) task = PartitionTask.restore(0, 1, rules, stored, meta);
    }
    await take(task.flush(rules, Number.POSITIVE_INFINITY).evaluations);
    return { out, parts };
  }

  it('a two-CPI rule fires and offers the same, restored at any point', async () => {
    const messages = cases[0]!;
    const whole = await run(messages, null);
    expect(whole.out.filter((l) => l.includes(' slow-and-busy offered '))).toHaveLength(3);
    for (const cut of [2, 10, 25, 35, 41]) expect((await run(messages, cut)).out, `cut after ${cut}`).toEqual(whole.out);
  });

  it('a trend against yesterday fires the same after a restore on either day, from the persisted recorded values', async () => {
    const messages = cases[3]!;
    const whole = await run(messages, null);
    expect(whole.parts.has('h')).toBe(true);
    expect(whole.out.filter((l) => l.includes(' slower-than-yesterday offered '))).toHaveLength(1);
    expect(whole.out.some((l) => l.startsWith('slower-than-yesterday ') && l.endsWith(' fire'))).toBe(true);
    // after day 1 only its recorded values carry yesterday's waits over the restore
    for (const cut of [20, 40, 41, 50, 70]) expect((await run(messages, cut)).out, `cut after ${cut}`).toEqual(whole.out);
  });

  it('a rule with threshold tiers offers the same after a restore, each customer from their own tier (states per tier)', async () => {
    const messages = tierCases[1]!;
    const whole = await run(messages, null);
    expect(whole.out.filter((l) => l.includes(' tiered-drink offered '))).toHaveLength(2);
    for (const cut of [5, 20, 30, 40]) expect((await run(messages, cut)).out, `cut after ${cut}`).toEqual(whole.out);
  });

  it('a rule reloaded without its tiers leaves no state or episode of them behind', async () => {
    const text = readFileSync(TIERS, 'utf8');
    const without = compileRuleSources([{ file: 'tiers.yaml', text: text.replace(/\n      tiers:\n.*\n/, '\n') }]);
    if (!without.ok) throw new Error(JSON.stringify(without.errors));
    expect(without.ruleSet.rules[0]!.tiers).toBeUndefined();
    const withTiers = taskRulesOf(ruleSet, buildRouting(ruleSet));
    const plain = taskRulesOf(without.ruleSet, buildRouting(without.ruleSet));
    const router = new SourceRouter(0, 1);
    const task = new PartitionTask(0, 1);
    const messages = tierCases[0]!;
    const tierKeys = () => [...task.entities.values()].flatMap((e) => [...e.rulesRead.keys(), ...e.episodes.keys()]).filter((k) => k.includes('#'));
    messages.forEach((m, i) => {
      const record = router.route([m], buildRouting(ruleSet), { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 }).records.get(0);
      if (record) task.process(i < messages.length - 5 ? withTiers : plain, [{ offset: i, record }]);
      if (i === messages.length - 6) expect(tierKeys()).toEqual(['tiered-drink#1', 'tiered-drink#1']); // firing, with its episode
    });
    task.flush(plain, Number.POSITIVE_INFINITY);
    expect(tierKeys()).toEqual([]);
  });

  it('a reload that joins CPIs into one close group carries on the closes of the scopes on the old timers', async () => {
    const text = readFileSync(`${FIXTURE}.yaml`, 'utf8');
    // before: slow-and-busy on the waits alone, so each CPI is its own close group
    const before = compileRuleSources([{ file: 'c.yaml', text: text.replace(/    when:\n      all:\n        - \{ cpi: wait-vs-promise, aggregate: p90, threshold: \{ above: 1.25, clear: 1.0 \}, minSamples: 5 \}\n.*\n/, '    cpi: wait-vs-promise\n    aggregate: p90\n    threshold: { above: 1.25, clear: 1.0 }\n    minSamples: 5\n') }]);
    const after = compileRuleSources([{ file: 'c.yaml', text }]);
    if (!before.ok || !after.ok) throw new Error('fixture');
    expect(before.ruleSet.rules[0]!.conditions).toHaveLength(1);
    const rulesBefore = taskRulesOf(before.ruleSet, buildRouting(before.ruleSet));
    const rulesAfter = taskRulesOf(after.ruleSet, buildRouting(after.ruleSet));
    const router = new SourceRouter(0, 1);
    const task = new PartitionTask(0, 1);
    const evaluations: string[] = [];
    for (const [i, m] of cases[0]!.entries()) {
      const record = router.route([m], buildRouting(before.ruleSet), { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 }).records.get(0);
      if (record) evaluations.push(...task.process(rulesBefore, [{ offset: i, record }]).evaluations.filter((e) => e.transition).map((e) => `${e.ruleId} ${e.transition}`));
    }
    expect(evaluations).toEqual(['slow-and-busy fire']);
    // the store sends nothing more; the reloaded rule clears once its window empties, on the new group's closes
    const out = task.flush(rulesAfter, Number.POSITIVE_INFINITY).evaluations;
    expect(out.filter((e) => e.transition).map((e) => `${e.ruleId} ${e.transition}`)).toEqual(['slow-and-busy clear']);
    expect([...task.entities.values()].flatMap((e) => [...e.rulesRead.keys()])).toEqual([]);
  });
});
