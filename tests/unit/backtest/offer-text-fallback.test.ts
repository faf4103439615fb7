// A template that fails at render time on the data (here a computed key the facts lack, which validate
// cannot see) never stops a backtest or loses an offer: the offer is published with the rule's own
// title and terms, and the summary counts them per rule with the first reason (CPW509).
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';
import { runCli } from '../../support/cli.js';

describe('backtest: offer texts that fail to render', () => {
  it('publishes every offer with the fallback texts and reports the count', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-text-fallback-'));
    const rules = join(dir, 'rules');
    await cp('rules/templates', join(rules, 'templates'), { recursive: true });
    await cp('rules/fulfilment.yaml', join(rules, 'fulfilment.yaml'));
    const file = join(rules, 'templates', 'shipping-apology.liquid');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/--- title\n.*\n/, '--- title\n{{ customer[trigger.cpi] }} on us\n'));
    const loaded = await loadTestFile('rules/fulfilment.test.yaml');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const events = join(dir, 'events.ndjson');
    await writeFile(events, `${loaded.testFile.tests[0]!.messages.map((m) => m.value!.toString()).join('\n')}\n`);

    const { code, out, err } = await runCli(['backtest', '--rules', rules, '--events', events]);
    expect(code, err).toBe(0);
    const offers = out.trim().split('\n').map((l) => JSON.parse(l) as { data: { customerId: string; offer: { title: string; terms?: string; locale?: string } } });
    expect(offers.map((o) => o.data.customerId).sort()).toEqual(['c1', 'c2']);
    // c1 gets the default file, which fails: the rule's texts; c2 reads French, which still renders
    const of = (c: string) => offers.find((o) => o.data.customerId === c)!.data.offer;
    expect(of('c1')).toEqual(expect.objectContaining({ title: 'Free shipping on your next order', terms: 'Free standard shipping on one order within 30 days.' }));
    expect(of('c1').locale).toBeUndefined();
    expect(of('c2')).toMatchObject({ title: 'Zoé, la livraison offerte sur votre prochaine commande', locale: 'fr' });
    expect(err).toMatch(/slow-shipping-voucher: 1 offer with the rule's own title and terms, its offer template failed to render \(CPW509; first, offer [0-9a-f-]+: undefined variable: customer\.order-to-shipped/);
  });
});
