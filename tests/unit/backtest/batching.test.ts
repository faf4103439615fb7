import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decisionEventOf } from '../../../src/actions/offer-event.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { scenarioEvents, writeScenarioRules } from '../../integration/rules/scenario.js';

describe('decisions do not depend on batching, with every guardrail in play', () => {
  it('takes the same decisions, in the same order per customer, for batches of 1, 3, 50 and everything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-scenario-'));
    await writeScenarioRules(dir);
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const messages = scenarioEvents('u1').map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } }));
    const runs: string[][] = [];
    for (const size of [1, 3, 50, messages.length]) {
      const sink = new CollectingSink();
      const replay = createReplay(loaded.ruleSet, { sink, batchSize: size });
      await replay.feed(messages);
      await replay.finish();
      runs.push(sink.decisions.map((d) => JSON.stringify(decisionEventOf(d))).sort());
    }
    const reasons = new Set(runs[0]!.map((d) => (JSON.parse(d) as { data: { reason?: string } }).data.reason ?? 'offered'));
    expect([...reasons].sort()).toEqual(['budget', 'cooldown', 'customer-cooldown', 'holdout', 'kill-switch', 'offered', 'quiet-hours']);
    for (const r of runs) expect(r).toEqual(runs[0]);
  });
});
