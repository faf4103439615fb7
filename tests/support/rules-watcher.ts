// What the rules watcher tests hand watchProcessorRules in place of a Processor: the rules it holds,
// setRules, and the reload counter, whose results are kept in `counts`.
import type { RuleSet } from '../../src/rules/compiled.js';

export function fakeProcessor(ruleSet: RuleSet) {
  const counts: string[] = [];
  const p = {
    rules: ruleSet,
    setRules(r: RuleSet) { p.rules = r; },
    metrics: { ruleReloads: { inc: ({ result }: { result: string }) => counts.push(result) } },
  };
  return { p, counts };
}
