// A rule's offer.template is checked like its email.template (CPW502 at the name, with did-you-mean),
// against the templates that have offer texts; the texts written in the YAML stay plain (CPW322).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** rules/fulfilment.yaml and the shipped templates in a folder of their own, the rule file edited. */
async function load(edit: (yaml: string) => string, templates: Record<string, string> = {}): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-offer-template-'));
  dirs.push(dir);
  cpSync('rules/templates', join(dir, 'templates'), { recursive: true });
  for (const [name, text] of Object.entries(templates)) writeFileSync(join(dir, 'templates', name), text);
  writeFileSync(join(dir, 'fulfilment.yaml'), edit(readFileSync('rules/fulfilment.yaml', 'utf8')));
  const loaded = await loadRuleSet([dir]);
  return loaded.ok ? [] : loaded.errors.map(formatRuleError).map((e) => e.split(`${dir}/`).join(''));
}

describe('offer.template checks', () => {
  it('the shipped example loads, its rule carrying the template name', async () => {
    const loaded = await loadRuleSet(['rules']);
    expect(loaded.ok && loaded.ruleSet.rules.find((r) => r.id === 'slow-shipping-voucher')!.offer.template).toBe('shipping-apology');
  });

  it('an unknown name is CPW502 at the name, with a did-you-mean', async () => {
    expect(await load((y) => y.replace('      template: shipping-apology\n      title:', '      template: shiping-apology\n      title:'))).toEqual([
      'fulfilment.yaml:48:17: CPW502 unknown offer-text template "shiping-apology" (did you mean "shipping-apology"?) (at rules[0].offer.template)',
    ]);
  });

  it('a template without offer texts for offer.template, or without an e-mail for email.template, says what it lacks', async () => {
    const errors = await load(
      (y) => y.replace('      template: shipping-apology\n      title:', '      template: complimentary-drink\n      title:').replace('      template: shipping-apology\n\n', '      template: drink-texts\n\n'),
      { 'drink-texts.liquid': '--- title\nA drink on us\n' },
    );
    expect(errors).toEqual([
      'fulfilment.yaml:48:17: CPW502 unknown offer-text template "complimentary-drink" (template "complimentary-drink" has no "--- title" section) (at rules[0].offer.template)',
      'fulfilment.yaml:55:17: CPW502 unknown e-mail template "drink-texts" (template "drink-texts" has no "--- subject" and "--- text" sections) (at rules[0].email.template)',
    ]);
  });

  it('a broken offer-text template is reported in its file, not again at the rule that names it', async () => {
    expect(await load((y) => y, { 'shipping-apology.liquid': '--- title\n{{ customer.first_name }}, free shipping\n--- subject\nx\n--- text\ny\n' })).toEqual([
      'templates/shipping-apology.liquid:2:4: CPW332 unknown template variable "customer.first_name" (did you mean "customer.name"?); the variables are listed in docs/rules.md, "Templates"',
    ]);
  });

  it('Liquid written in the YAML title is still never filled (CPW322), pointing to offer.template', async () => {
    const errors = await load((y) => y.replace('      title: Free shipping on your next order', '      title: "{{ customer.name }}, free shipping"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^fulfilment\.yaml:49:15: CPW322 placeholder "\{\{ customer\.name \}\}" in the offer title is never filled: .*; to fill it, write the title in a template named by offer\.template, templates\/<name>\.liquid with "--- title"/);
  });
});
