// A late event is late whole: its sample does not count, so its customer is no contributor either,
// and the event is counted late (it was counted applied, and silently left out, because the
// contributor record it also carried was kept).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleSet } from '../../../src/rules/load.js';
import { RETURNS_CPI, RETURNS_RULE } from '../../support/rule-texts.js';
import { asMessages, localRun } from '../../support/local-run.js';

const H = 3_600_000;
const START = Date.UTC(2026, 10, 20, 0);
const ret = (i: number, at: number, channel: string, steps: number) => ({
  specversion: '1.0', id: `ret-${i}`, source: 'urn:test:late-contributor', type: 'return.completed', time: new Date(at).toISOString(),
  data: { returnId: `r${i}`, customerId: `c${i}`, channel, steps, durationSeconds: 600 },
});

describe('an event behind the allowed lateness', () => {
  it('is counted late, and its customer gets no offer as a contributor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-late-contrib-'));
    await writeFile(join(dir, 'returns.yaml'), RETURNS_CPI + RETURNS_RULE.replace('rules:', '\nrules:'));
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    // online returns are easy; one painful phone return arrives 3 h after later events (lateness 0)
    const events = [ret(1, START + 1 * H, 'online', 1), ret(2, START + 5 * H, 'online', 1), ret(3, START + 2 * H, 'phone', 9), ret(4, START + 30 * H, 'online', 1)];
    const run = await localRun(loaded.ruleSet, asMessages(events), 10);
    expect(run.counts).toMatchObject({ applied: 3, late: 1 });
    expect(run.decisions).toEqual([]);
    // in time, the same return fires the rule and its customer is offered
    const inTime = await localRun(loaded.ruleSet, asMessages([events[0]!, events[2]!, events[1]!, events[3]!]), 10);
    expect(inTime.counts).toMatchObject({ applied: 4, late: 0 });
    expect(inTime.decisions.map((d) => JSON.parse(d).data.customerId)).toEqual(['c3']);
  });
});
