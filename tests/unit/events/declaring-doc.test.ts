/**
 * docs/events.md, "Declaring event types", is tested: its declaration and CPI examples load as one
 * valid rule set, its event example decodes with those declarations (and is unknown without them),
 * and the messages it quotes are the ones cpiwatch gives.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/events/decode.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';
import { fencedBlocks } from '../../support/markdown.js';

const DOC = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
const SECTION = DOC.slice(DOC.indexOf('## Declaring event types'), DOC.indexOf('## Event types\n'));
const blocks = fencedBlocks(SECTION);
const one = (info: string, start: string) => {
  const found = blocks.filter((b) => b.info === info && b.body.startsWith(start));
  expect(found, `one ${info} block starting with ${start}`).toHaveLength(1);
  return found[0]!.body;
};
const DECLARATIONS = one('yaml', '# rules/survey-events.yaml');
const CPI = one('yaml', 'cpis:');
const EVENT = one('jsonc', '{');
const LIMITS = { maxBytes: 1_048_576 };

/** The examples as files of a rules folder: rules/survey-events.yaml and rules/effort.yaml. */
async function load(cpi = CPI) {
  const dir = join(mkdtempSync(join(tmpdir(), 'cpiwatch-declaring-doc-')), 'rules');
  mkdirSync(dir);
  writeFileSync(join(dir, 'survey-events.yaml'), DECLARATIONS);
  writeFileSync(join(dir, 'effort.yaml'), cpi);
  return { dir, loaded: await loadRuleSet([dir]) };
}

describe('docs/events.md, "Declaring event types"', () => {
  it('its declarations and the CPI on them load as one valid rule set', async () => {
    const { loaded } = await load();
    expect(loaded.ok ? [] : loaded.errors.map(formatRuleError)).toEqual([]);
    const types = loaded.ok ? loaded.ruleSet.eventTypes! : undefined;
    expect(types?.get('survey.answered')?.customerField).toBe('customerId');
    expect([...types!.get('ticket.resolved')!.fields.keys()]).toContain('cesScore');
  });

  it('its event decodes with the declarations, the undeclared field kept; without them it is unknown', async () => {
    const { loaded } = await load();
    const types = loaded.ok ? loaded.ruleSet.eventTypes : undefined;
    const r = decodeEvent({ value: Buffer.from(EVENT) }, LIMITS, types);
    expect(r.ok && r.event.data).toMatchObject({ cesScore: 6, language: 'en' });
    expect(decodeEvent({ value: Buffer.from(EVENT) }, LIMITS)).toMatchObject({ ok: false, code: 'CPW202' });
  });

  it('quotes the messages cpiwatch gives: a personal field is not echoed, CPW314 says where to declare', async () => {
    const { loaded } = await load();
    const event = JSON.parse(EVENT) as { data: Record<string, unknown> };
    event.data.comment = 'x'.repeat(2304);
    const r = decodeEvent({ value: Buffer.from(JSON.stringify(event)) }, LIMITS, loaded.ok ? loaded.ruleSet.eventTypes : undefined);
    const quoted = 'data.comment: expected at most 2000 characters, got 2304';
    expect(SECTION).toContain(quoted);
    expect(r.ok === false && r.reason).toBe(`event data does not match the schema of survey.answered: ${quoted}`);

    const { loaded: wrong } = await load(CPI.replace('field: cesScore', 'field: effortScore'));
    const message = wrong.ok ? '' : wrong.errors.map((e) => e.message).join('\n');
    expect(message).toMatch(/^event type survey\.answered has no field "effortScore"; declare it under fields: of survey\.answered in .*\/rules\/survey-events\.yaml$/);
    expect(SECTION.replace(/\s+/g, ' ')).toContain('declare it under fields: of survey.answered in rules/survey-events.yaml');
  });
});

describe('docs/rules.md, "Event types of your own"', () => {
  const RULES_DOC = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8');
  const found = fencedBlocks(RULES_DOC).filter((b) => b.info === 'yaml' && b.body.startsWith('# rules/checkout-events.yaml'));

  it('its checkout declarations take the ratio CPI the text describes', async () => {
    expect(found).toHaveLength(1);
    const dir = join(mkdtempSync(join(tmpdir(), 'cpiwatch-rules-doc-types-')), 'rules');
    mkdirSync(dir);
    writeFileSync(join(dir, 'checkout-events.yaml'), found[0]!.body);
    writeFileSync(join(dir, 'checkout.yaml'), `cpis:
  - id: checkout-abandonment
    measure:
      ratio:
        numerator: { event: checkout.abandoned, where: { step: payment } }
        denominator: { event: checkout.started }
    groupBy: channel
    window: 1h
    resolution: 5m
`);
    const loaded = await loadRuleSet([dir]);
    expect(loaded.ok ? [] : loaded.errors.map(formatRuleError)).toEqual([]);
    const wrong = await loadRuleSet([join(dir, 'checkout.yaml')]);
    expect(wrong.ok ? [] : wrong.errors.map((e) => e.code)).toEqual(['CPW304', 'CPW304']);
  });
});
