// Every shipped example on issue 12's forms (declared event types, trends, conditions over several
// CPIs, tiered thresholds) is backtested on the events of its own rule tests: `cpiwatch backtest`
// on the example's rule files, from an NDJSON file, offers exactly the customers its rule test
// expects, rule by rule, and with the titles it expects (offer texts rendered from a template, in
// the customer's language). So the examples' tests and a backtest agree, as `run` does (one engine).
import { cp, copyFile, mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_EVENT_TYPES } from '../../../src/events/library.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';
import { runCli } from '../../support/cli.js';

const EXAMPLES = ['rules/feedback.test.yaml', 'rules/commerce.test.yaml', 'rules/curbside-staffing.test.yaml', 'rules/fulfilment.test.yaml', 'examples/rules/curbside-gold.test.yaml'];

describe('the shipped examples, backtested on their rule tests\' events', () => {
  for (const file of EXAMPLES) {
    it(`${basename(file)}: the backtest offers what each test expects`, async () => {
      const loaded = await loadTestFile(file, async (ruleFiles) => {
        const r = await loadRuleSet(ruleFiles);
        return r.ok ? (r.ruleSet.eventTypes ?? BUILTIN_EVENT_TYPES) : { errors: r.errors };
      });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
      const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-examples-'));
      const rules = join(dir, 'rules');
      await mkdir(rules);
      for (const f of loaded.testFile.ruleFiles) await copyFile(f, join(rules, basename(f)));
      const templates = join(dirname(loaded.testFile.ruleFiles[0]!), 'templates');
      if (await stat(templates).catch(() => undefined)) await cp(templates, join(rules, 'templates'), { recursive: true });
      let checked = 0;
      let titles = 0;
      for (const [i, t] of loaded.testFile.tests.entries()) {
        const events = join(dir, `case-${i}.ndjson`);
        await writeFile(events, t.messages.map((m) => m.value!.toString()).join('\n') + '\n');
        const { code, out } = await runCli(['backtest', '--rules', rules, '--events', events]);
        expect(code).toBe(0);
        const offers = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { data: { rule: { id: string }; customerId: string; offer: { title: string }; trigger: { tier?: number; compare?: unknown } } });
        // the trigger says which tier's line fired and what a trend compared with
        for (const o of offers) {
          if (o.data.rule.id === 'conversion-drop') expect(o.data.trigger.compare).toEqual({ to: 'sameTimeYesterday', as: 'ratio' });
          else expect(o.data.trigger.compare).toBeUndefined();
          if (o.data.rule.id === 'curbside-short-staffed') expect(o.data.trigger.tier).toBe(o.data.customerId === 'g1' ? 1 : undefined);
          else expect(o.data.trigger.tier).toBeUndefined();
        }
        const offered = offers.map((o) => `${o.data.rule.id} ${o.data.customerId}`).sort();
        expect(offered, t.name).toEqual(t.offers.map((o) => `${o.rule} ${o.customer}`).sort());
        for (const x of t.offers.filter((o) => o.title !== undefined)) {
          expect(offers.find((o) => o.data.rule.id === x.rule && o.data.customerId === x.customer)?.data.offer.title, t.name).toBe(x.title);
          titles += 1;
        }
        checked += t.offers.length;
      }
      expect(checked).toBeGreaterThan(0);
      if (file === 'rules/fulfilment.test.yaml') expect(titles).toBe(2);
    });
  }
});
