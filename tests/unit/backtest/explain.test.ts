import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index.js';
import type { CliIo } from '../../../src/cli/io.js';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';

/** The input events of a rule test case, as an NDJSON file. */
async function eventsOf(testFile: string, caseIndex: number): Promise<string> {
  const tf = await loadTestFile(testFile);
  if (!tf.ok) throw new Error(JSON.stringify(tf.errors));
  const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-explain-'));
  const file = join(dir, 'events.ndjson');
  await writeFile(file, tf.testFile.tests[caseIndex]!.messages.map((m) => String(m.value)).join('\n'));
  return file;
}

async function explain(rules: string, events: string, customer: string, rule = 'curbside-flash-drink'): Promise<string> {
  let out = '';
  const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; } };
  const code = await main(['explain', '--customer', customer, '--rule', rule, '--rules', rules, '--events', events], io);
  expect(code).toBe(0);
  return out;
}

describe('cpiwatch explain (backtest mode)', () => {
  it('tells an offer from a candidate the filter left out, showing the facts against the filter', async () => {
    const events = await eventsOf('rules/curbside.test.yaml', 0);
    const offered = await explain('rules', events, 'c1');
    expect(offered).toContain('curbside-flash-drink: OFFERED');
    expect(offered).toMatch(/OFFERED at 2026-11-23T18:16:00Z: p90 1\.99\d* above 1\.25 in storeId=S1, episode from 2026-11-23T18:16:00Z; offer [0-9a-f-]{36} \(CURBSIDE-DRINK, rule version [0-9a-f]+\)/);
    const filtered = await explain('rules', events, 'c2');
    expect(filtered).toContain('curbside-flash-drink: FILTERED OUT');
    expect(filtered).toContain('FAIL  valueTier {in: ["gold","platinum"]}: the customer\'s valueTier is "bronze"');
    expect(filtered).toContain('customer c2: facts valueTier="bronze", lifetimeValue=90');
  });

  it('shows the title an offer was published with, in the customer\'s language, for a rule with offer texts in a template', async () => {
    const events = await eventsOf('rules/fulfilment.test.yaml', 0);
    const fr = await explain('rules', events, 'c2', 'slow-shipping-voucher');
    expect(fr).toContain('slow-shipping-voucher: OFFERED');
    expect(fr).toContain('  title: "Zoé, la livraison offerte sur votre prochaine commande" (fr)\n');
    expect(await explain('rules', events, 'c1', 'slow-shipping-voucher')).toContain('  title: "Free shipping on your next order"\n');
  });

  it('spells out the guardrail that suppressed an offer', async () => {
    const holdout = await explain('rules', await eventsOf('rules/curbside.test.yaml', 2), 'c8');
    expect(holdout).toContain('curbside-flash-drink: SUPPRESSED');
    expect(holdout).toMatch(/in the rule's 10% holdout group \(control group, fixed by a hash of rule and customer: bucket \d+ of 10000, below 1000\)/);
    const quiet = await explain('rules', await eventsOf('rules/curbside.test.yaml', 3), 'c1');
    expect(quiet).toContain('2026-11-24T04:16:00Z is 22:16 in America/Chicago, within the quiet hours 22:00-07:00');
    const budget = await explain('tests/unit/rule-tests/fixtures/guardrails.yaml', await eventsOf('tests/unit/rule-tests/fixtures/guardrails.test.yaml', 0), 'c3');
    expect(budget).toMatch(/the rule's budget of 2 offers per 1h in storeId=S1 was used up \(2 offers from 2026-11-23T18:00:00Z\)/);
    const cooldown = await explain('rules', await eventsOf('rules/engagement.test.yaml', 2), 'c1', 're-engage-quiet-customers');
    expect(cooldown).toMatch(/the rule already made this customer an offer within its cooldown of 60d: at 2026-11-12T00:00:00Z/);
  });

  it('shows the CPI value and threshold where the customer was when the rule never fired there', async () => {
    const out = await explain('rules', await eventsOf('rules/curbside.test.yaml', 1), 'c1');
    expect(out).toContain('curbside-flash-drink: NOT A CANDIDATE');
    expect(out).toContain('the customer set out for storeId=S1 at 2026-11-23T18:02:00Z (customer.en-route, arriving in 25m)');
    expect(out).toMatch(/NOT A CANDIDATE: the rule never fired in storeId=S1; its most extreme value was 0\.\d+ at /);
    const other = await explain('rules', await eventsOf('rules/curbside.test.yaml', 1), 'c1', 'slow-shipping-voucher');
    expect(other).toContain('slow-shipping-voucher: NOT CONCERNED');
  });

  it('says why a customer was in none of the audiences of a rule that fired where they were', async () => {
    const tf = await loadTestFile('rules/curbside.test.yaml');
    if (!tf.ok) throw new Error('test file');
    const lines = tf.testFile.tests[0]!.messages.map((m) => JSON.parse(String(m.value)) as { type: string; time: string; data: Record<string, unknown> });
    // c1 set out an hour before the breach, with a 25-minute trip: long arrived when the rule fired
    for (const l of lines) if (l.type === 'customer.en-route' && l.data.customerId === 'c1') l.time = '2026-11-23T17:10:00Z';
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-explain-'));
    const file = join(dir, 'events.ndjson');
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const out = await explain('rules', file, 'c1');
    expect(out).toContain('the rule fired there: 2026-11-23T18:16:00Z');
    expect(out).toContain('episode from 2026-11-23T18:16:00Z: set out at 2026-11-23T17:10:00Z, 1h6m before it fired; the audience looks back 45m');
  });
});

describe('cpiwatch explain: rules over several CPIs and trends', () => {
  const FIXTURE = 'tests/unit/rule-tests/fixtures/conditions';
  const rules = `${FIXTURE}.yaml`;

  it('shows each condition of a two-CPI rule at the fire, and the closest it came where it did not fire', async () => {
    const offered = await explain(rules, await eventsOf(`${FIXTURE}.test.yaml`, 0), 'c1', 'slow-and-busy');
    expect(offered).toContain('per storeId, fires while all of: p90 of wait-vs-promise above 1.25 (clears at 1), with at least 5 samples; count of heading-in above 2');
    expect(offered).toMatch(/OFFERED at 2026-11-23T18:14:00Z: p90 of wait-vs-promise 1\.99\d*, breaching; count of heading-in 3, breaching in storeId=S1/);
    const not = await explain(rules, await eventsOf(`${FIXTURE}.test.yaml`, 1), 'c1', 'slow-and-busy');
    expect(not).toMatch(/NOT A CANDIDATE: the rule never fired in storeId=S1; closest at 2026-11-23T18:14:00Z: p90 of wait-vs-promise 1\.99\d*, breaching; count of heading-in 1, not breaching/);
  });

  it('shows a trend against the value it compared with, and says when there was none', async () => {
    const offered = await explain(rules, await eventsOf(`${FIXTURE}.test.yaml`, 3), 'c1', 'slower-than-yesterday');
    expect(offered).toContain('fires while p90 of wait-vs-promise as a ratio to its value at the same time yesterday above 1.3 (clears at 1.1), with at least 5 samples, earlier values from at least 5');
    expect(offered).toMatch(/OFFERED at 2026-11-24T18:19:00Z: p90 of wait-vs-promise 2\.97\d* against 1\.99\d* = 1\.49\d*, breaching/);
    const same = await explain(rules, await eventsOf(`${FIXTURE}.test.yaml`, 2), 'c1', 'slower-than-yesterday');
    expect(same).toMatch(/closest at 2026-11-24T18:14:00Z: p90 of wait-vs-promise 1\.99\d* against 1\.99\d* = 1, not breaching/);
    const firstDay = await explain(rules, await eventsOf(`${FIXTURE}.test.yaml`, 0), 'c1', 'slower-than-yesterday');
    expect(firstDay).toMatch(/p90 of wait-vs-promise 1\.99\d* against none, not computed \(no value recorded then, when its window held no data: no baseline, so no breach\)/);
  });
});

describe('cpiwatch explain: threshold tiers', () => {
  const rules = 'tests/unit/rule-tests/fixtures/tiers.yaml';
  const events = () => eventsOf('tests/unit/rule-tests/fixtures/tiers.test.yaml', 0);

  it("names the tier of an offer, and the customer's tier where another tier's candidate was left out", async () => {
    const gold = await explain(rules, await events(), 'c1', 'tiered-drink');
    expect(gold).toContain('fires while p90 of tiered-wait above 1.5 (clears at 1.2), with at least 5 samples (tier 0, every other customer); for customers with valueTier {in: ["gold","platinum"]} (tier 1): p90 of tiered-wait above 1.1 (clears at 1), with at least 5 samples');
    expect(gold).toMatch(/OFFERED at 2026-11-23T18:10:00Z: p90 of tiered-wait 1\.3\d*, breaching \(tier 1: valueTier \{in: \["gold","platinum"\]\}\) in storeId=S1/);
    const bronze = await explain(rules, await events(), 'c2', 'tiered-drink');
    expect(bronze).toContain('tiered-drink: FILTERED OUT');
    expect(bronze).toContain('a candidate of tier 1 (valueTier {in: ["gold","platinum"]}) in storeId=S1 (episode from 2026-11-23T18:10:00Z), but the customer\'s facts put them in tier 0 (the rule\'s own thresholds): only its episodes make them offers');
  });
});
