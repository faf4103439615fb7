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
