// Identity through the engine (the core of `backtest`, `test` and `run`): ids are opaque strings of
// any Unicode. The curbside scenario with every customer, store and order id replaced by an arbitrary
// distinct string (lookalikes such as "josé" / "jose\u0301" / "jos%e9", "a—20" / "a 1420", astral
// characters, spaces, percent signs, braces) decides exactly what it decides with plain ids: no two
// ids share any state (a shared window, profile or ledger entry would change some decision), and every
// decision carries its customer's exact id. The new ids keep the order of the old ones where the
// engine's tie-breaks read it (stores by their tag, customers by their id), and the rules' holdout
// (a hash of the customer id) is off: both would change who gets what without any state shared.
import fc from 'fast-check';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { asMessages, localRun } from '../../support/local-run.js';
import { exampleRules } from '../../support/processor.js';
import { oddId, renamableScenario } from '../../support/renamed-ids.js';

let rules: RuleSet;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-rules-'));
  for (const f of readdirSync('rules').filter((n) => /\.ya?ml$/.test(n) && !n.includes('.test.'))) {
    writeFileSync(join(dir, f), readFileSync(join('rules', f), 'utf8').replace(/holdoutPercent: \d+/g, 'holdoutPercent: 0'));
  }
  cpSync(join('rules', 'templates'), join(dir, 'templates'), { recursive: true });
  rules = await exampleRules([dir]);
});

const scenario = renamableScenario({ start: Date.UTC(2026, 0, 5, 15), stores: 3, busyStores: 2, minutes: 40, enRoutePerStore: 6, seed: 11, idPrefix: 'id' });

/** Decisions as (rule, customer, outcome, reason, time), customer ids read back through `back`. */
function decisions(run: Awaited<ReturnType<typeof localRun>>, back: (id: string) => string): string[] {
  return run.decisions.map((d) => {
    const e = JSON.parse(d) as { data: { customerId: string; rule: { id: string }; outcome: string; reason?: string; decidedAt: string } };
    return `${e.data.rule.id} ${back(e.data.customerId)} ${e.data.outcome} ${e.data.reason ?? ''} ${e.data.decidedAt}`;
  }).sort();
}

describe('ids are opaque: any distinct strings decide what plain ids decide', () => {
  it('no two ids share state, and every decision carries its customer\'s exact id', async () => {
    const plain = await localRun(rules, asMessages(scenario.events), 50);
    const expected = decisions(plain, (id) => id);
    expect(expected.length).toBeGreaterThan(0);
    await fc.assert(fc.asyncProperty(fc.uniqueArray(oddId, { minLength: scenario.ids.length, maxLength: scenario.ids.length }), fc.integer({ min: 1, max: 80 }), async (names, batch) => {
      const { events, map } = scenario.renamed(names);
      const back = new Map([...map].map(([id, name]) => [name, id]));
      const run = await localRun(rules, asMessages(events), batch);
      // every decision's customer id is exactly one of the new ids (none garbled, none of another)
      for (const d of run.decisions) expect(back.has((JSON.parse(d) as { data: { customerId: string } }).data.customerId)).toBe(true);
      expect(decisions(run, (id) => back.get(id)!)).toEqual(expected);
      expect(run.counts).toEqual(plain.counts);
    }), { numRuns: 25 });
  });
});
