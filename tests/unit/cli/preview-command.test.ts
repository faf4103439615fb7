// `cpiwatch preview <template>`: the shipped example template rendered with the samples, in a locale,
// with --data overriding samples, --html writing the HTML part to a file, and the usage errors.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/index.js';

describe('cpiwatch preview', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'cpiwatch-preview-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('renders the English default with the samples', async () => {
    const run = await runCli(['preview', 'shipping-apology', '--rules', 'rules']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('template: shipping-apology (default file: rules/templates/shipping-apology.liquid), for locale en-US\n');
    expect(run.out).toContain('subject: Ana, sorry your order is taking so long\n--- text\nHi Ana,\n');
    expect(run.out).toContain('<p>Use the code <code>CURBSIDE-DRINK</code> before November 23, 2026.</p>');
  });

  it('--locale fr-CA falls back to the French file; --data replaces samples; HTML escapes them', async () => {
    const data = join(dir, 'zoe.json');
    await writeFile(data, JSON.stringify({ customer: { name: 'Zoé <admin>' }, 'offer.code': 'SHIPFREE' }));
    const html = join(dir, 'out.html');
    const run = await runCli(['preview', 'shipping-apology', '--rules', 'rules', '--locale', 'fr-CA', '--data', data, '--html', html]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('template: shipping-apology (locale fr: rules/templates/shipping-apology.fr.liquid), for locale fr-CA\n');
    expect(run.out).toContain('subject: Zoé <admin>, pardon pour le retard de votre commande\n');
    expect(run.out).toContain('Utilisez le code SHIPFREE avant le 23/11/2026.');
    expect(run.out).toContain(`--- html\nwritten to ${html}\n`);
    const written = await readFile(html, 'utf8');
    expect(written).toContain('<p>Bonjour Zoé &lt;admin&gt;,</p>');
  });

  it('a misspelt template or data key is a usage error with a did-you-mean', async () => {
    const unknown = await runCli(['preview', 'shiping-apology', '--rules', 'rules']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('CPW102 usage: unknown template "shiping-apology" (did you mean "shipping-apology"?); templates: complimentary-drink, generic-offer, shipping-apology');
    const data = join(dir, 'typo.json');
    await writeFile(data, JSON.stringify({ customer: { nmae: 'x' } }));
    const typo = await runCli(['preview', 'generic-offer', '--rules', 'rules', '--data', data]);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('sets "customer.nmae" (did you mean "customer.name"?), which no template has');
  });

  it('renders the offer texts (title, terms) per locale, and the e-mail reads them as offer.title and offer.terms', async () => {
    const en = await runCli(['preview', 'shipping-apology', '--rules', 'rules']);
    expect(en.out).toContain('template: shipping-apology (default file: rules/templates/shipping-apology.liquid), for locale en-US\ntitle: Ana, free shipping on your next order\nterms: Free standard shipping on one order before November 23, 2026.\nsubject: ');
    expect(en.out).toContain('Ana, free shipping on your next order: Free standard shipping on one order before November 23, 2026.\n');
    const fr = await runCli(['preview', 'shipping-apology', '--rules', 'rules', '--locale', 'fr']);
    expect(fr.out).toContain('title: Ana, la livraison offerte sur votre prochaine commande\nterms: Livraison standard offerte sur une commande passée avant le 23/11/2026.\n');
    // --data setting offer.title is what the e-mail reads; the offer's own title is still rendered
    const data = join(dir, 'title.json');
    await writeFile(data, JSON.stringify({ 'offer.title': 'Set by hand' }));
    const set = await runCli(['preview', 'shipping-apology', '--rules', 'rules', '--data', data]);
    expect(set.out).toContain('title: Ana, free shipping on your next order\n');
    expect(set.out).toContain('Set by hand: Free standard shipping');
  });

  it('a template of offer texts only; a translation without them takes the default\'s, and says which file', async () => {
    const rules = join(dir, 'texts');
    await mkdir(join(rules, 'templates'), { recursive: true });
    await writeFile(join(rules, 'templates', 'drink.liquid'), '--- title\n{{ customer.name }}, a drink on us at {{ store.name }}\n--- subject\nA drink\n--- text\n{{ offer.title }}\n');
    await writeFile(join(rules, 'templates', 'drink.de.liquid'), '--- subject\nEin Getränk\n--- text\n{{ offer.title }}\n');
    await writeFile(join(rules, 'templates', 'only.liquid'), '--- title\nA drink on us\n');
    const only = await runCli(['preview', 'only', '--rules', rules]);
    expect(only.code).toBe(0);
    expect(only.out).toBe(`template: only (default file: ${join(rules, 'templates', 'only.liquid')}), for locale en-US\ntitle: A drink on us\nterms: (none in the template: the offer has the rule's offer.terms)\n--- e-mail\n(none: the template has no subject and text parts)\n`);
    const de = await runCli(['preview', 'drink', '--rules', rules, '--locale', 'de']);
    expect(de.out).toBe([
      `template: drink (default file: ${join(rules, 'templates', 'drink.liquid')}), for locale de`,
      'title: Ana, a drink on us at Springfield Mall',
      "terms: (none in the template: the offer has the rule's offer.terms)",
      `e-mail: locale de: ${join(rules, 'templates', 'drink.de.liquid')}`,
      'subject: Ein Getränk', '--- text', 'Ana, a drink on us at Springfield Mall', '--- html', '(none: the template has no html part)', '',
    ].join('\n'));
  });

  it('a broken template is reported at its place, not rendered', async () => {
    const rules = join(dir, 'broken');
    await mkdir(join(rules, 'templates'), { recursive: true });
    await writeFile(join(rules, 'templates', 'oops.liquid'), '--- subject\nHi {{ customer.name | upcase }\n--- text\nx\n');
    const run = await runCli(['preview', 'oops', '--rules', rules]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/oops\.liquid:2:4: CPW331 Liquid syntax error: output "\{\{ customer\.name \| upcase \}" not closed/);
    expect(run.err).toContain('nothing rendered');
  });
});
