// Marketers' templates (rules/templates/*.liquid): rendering with escaping in HTML only, the locale
// fallback chain, and every check of `cpiwatch validate` at the template's file:line:col.
import { describe, expect, it } from 'vitest';
import { EmailTemplates, type TemplateSource } from '../../../../src/actions/email/template-library.js';
import { localeChain, splitTemplateFile, templateFileName } from '../../../../src/actions/email/template-file.js';
import { sampleContext, TEMPLATE_VARIABLE_NAMES } from '../../../../src/actions/email/template-variables.js';
import type { OfferData } from '../../../../src/actions/offer-event.js';
import { formatRuleError } from '../../../../src/rules/rule-errors.js';

const offer: OfferData = {
  schemaVersion: 1, offerId: 'o-1', customerId: 'c1', rule: { id: 'late-parcel', version: 'v1' },
  trigger: { cpi: 'days-to-ship', aggregate: 'avg', value: 3.5, direction: 'above', threshold: 2, scope: { dimension: 'region', value: 'north' }, episodeStartedAt: '2026-11-23T18:00:00.000Z' },
  offer: { kind: 'voucher', code: 'SORRY10', title: '10% off your next order', issuedAt: '2026-11-23T18:06:00.000Z', expiresAt: '2026-11-30T18:06:00.000Z' },
  channels: { email: true },
};

const apology = (subject: string, body: string): string => `# apology\n--- subject\n${subject}\n--- text\n${body}\n--- html\n<p>${body}</p>\n`;

function build(files: Record<string, string>) {
  return EmailTemplates.build(Object.entries(files).map(([file, text]): TemplateSource => ({ file: `rules/templates/${file}`, text })));
}

function templatesOf(files: Record<string, string>): EmailTemplates {
  const built = build(files);
  if (!built.ok) throw new Error(built.errors.map(formatRuleError).join('\n'));
  return built.templates;
}

function errorsOf(files: Record<string, string>): string[] {
  const built = build(files);
  return built.ok ? [] : built.errors.map(formatRuleError);
}

describe('template files', () => {
  it('name a template and a locale', () => {
    expect(templateFileName('apology.liquid')).toEqual({ name: 'apology' });
    expect(templateFileName('apology.fr-CA.liquid')).toEqual({ name: 'apology', locale: 'fr-CA' });
    expect(templateFileName('Apology.liquid')).toBeUndefined();
    expect(templateFileName('apology.fr.ca.liquid')).toBeUndefined();
  });

  it('split into sections that keep their lines', () => {
    const { parts, problems } = splitTemplateFile('# comment\n--- subject\nHi\n--- text\nline 1\nline 2\n\n');
    expect(problems).toEqual([]);
    expect(parts.subject).toEqual({ source: 'Hi', line: 3 });
    expect(parts.text).toEqual({ source: 'line 1\nline 2', line: 5 });
    expect(parts.html).toBeUndefined();
  });

  it('the fallback chain goes from the most specific locale to the language', () => {
    expect(localeChain('fr-CA')).toEqual(['fr-ca', 'fr']);
    expect(localeChain('zh_Hant_TW')).toEqual(['zh-hant-tw', 'zh-hant', 'zh']);
    expect(localeChain(undefined)).toEqual([]);
    expect(localeChain('not a locale!')).toEqual([]);
  });
});

describe('rendering', () => {
  const templates = templatesOf({
    'apology.liquid': apology('Sorry, {{ customer.name | default: "friend" }}', 'Hi {{ customer.name }}, use {{ offer.code }} ({{ trigger.value | round: 1 }} days against {{ trigger.threshold }} in {{ trigger.scope.value }}).'),
    'apology.fr.liquid': apology('Pardon, {{ customer.name | default: "cher client" }}', 'Bonjour {{ customer.name }}, code {{ offer.code }}.'),
    'apology.fr-CA.liquid': apology('Désolés, {{ customer.name }}', 'Allô {{ customer.name }}, code {{ offer.code }}.'),
  });

  it('escapes a customer name in the HTML part and leaves it raw in the text and subject', () => {
    const mail = templates.render('apology', { offer, facts: { name: '<script>alert(1)</script>' } })!;
    expect(mail.html).toBe('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;, use SORRY10 (3.5 days against 2 in north).</p>');
    expect(mail.text).toBe('Hi <script>alert(1)</script>, use SORRY10 (3.5 days against 2 in north).');
    expect(mail.subject).toBe('Sorry, <script>alert(1)</script>');
  });

  it('picks the translation by the customer locale: fr-CA, then fr, then the default', () => {
    const by = (locale?: string) => templates.render('apology', { offer, facts: { name: 'Zoé', ...(locale ? { locale } : {}) } })!;
    expect(by('fr-CA')).toMatchObject({ locale: 'fr-ca', subject: 'Désolés, Zoé' });
    expect(by('fr_ca')).toMatchObject({ locale: 'fr-ca' });
    expect(by('fr-BE')).toMatchObject({ locale: 'fr', subject: 'Pardon, Zoé', text: 'Bonjour Zoé, code SORRY10.' });
    expect(by('de-DE')).toMatchObject({ locale: '', subject: 'Sorry, Zoé' });
    expect(by(undefined)).toMatchObject({ locale: '' });
  });

  it('a fact the processor lacks is null: the default filter and {% if %} see it as missing', () => {
    expect(templates.render('apology', { offer, facts: {} })!.subject).toBe('Sorry, friend');
    expect(templates.render('apology', { offer, facts: { name: '' } })!.subject).toBe('Sorry, friend');
  });

  it('renders the samples of every declared variable (cpiwatch preview), overridden by data', () => {
    const { context, unknown } = sampleContext({ customer: { name: 'Ana' }, 'offer.code': 'X1', nope: 1 });
    expect(unknown).toEqual(['nope']);
    expect(templates.renderContext('apology', context, 'en')!.text).toBe('Hi Ana, use X1 (1.6 days against 1.25 in S1).');
    expect(TEMPLATE_VARIABLE_NAMES).toContain('customer.locale');
  });

  it('a folder template replaces a shipped one of the same name; the others stay', () => {
    const own = templatesOf({ 'generic-offer.liquid': apology('Ours', 'Ours') });
    expect(own.names).toEqual(['complimentary-drink', 'generic-offer']);
    expect(own.render('generic-offer', { offer })!.subject).toBe('Ours');
  });
});

describe('checks (cpiwatch validate)', () => {
  it('an unknown variable, at its line and column, with a did-you-mean', () => {
    expect(errorsOf({ 'apology.liquid': '--- subject\nSorry\n--- text\nHi {{ customer.nmae }},\nyour code: {{ offer.cod }}\n{{ first_name }} {{ trigger.scope.store }}\n' })).toEqual([
      'rules/templates/apology.liquid:4:7: CPW332 unknown template variable "customer.nmae" (did you mean "customer.name"?); the variables are listed in docs/rules.md, "Templates"',
      'rules/templates/apology.liquid:5:15: CPW332 unknown template variable "offer.cod" (did you mean "offer.code"?); the variables are listed in docs/rules.md, "Templates"',
      'rules/templates/apology.liquid:6:4: CPW332 unknown template variable "first_name" (did you mean "customer.name"?); the variables are listed in docs/rules.md, "Templates"',
      'rules/templates/apology.liquid:6:21: CPW332 unknown template variable "trigger.scope.store"; the variables are listed in docs/rules.md, "Templates"',
    ]);
  });

  it('a variable of the template itself (assign, for) is no unknown variable', () => {
    expect(errorsOf({ 'apology.liquid': '--- subject\n{% assign who = customer.name | default: "you" %}Sorry {{ who }}\n--- text\nHi\n' })).toEqual([]);
  });

  it('an unknown filter, with a did-you-mean among the filters', () => {
    expect(errorsOf({ 'apology.fr.liquid': '--- subject\nx\n--- text\nBonjour\n{{ customer.name | upcse }}\n', 'apology.liquid': apology('a', 'b') })).toEqual([
      'rules/templates/apology.fr.liquid:5:1: CPW333 unknown Liquid filter "upcse" (did you mean "upcase"?)',
    ]);
  });

  it('a Liquid syntax error, an unknown tag and include are errors at their place', () => {
    expect(errorsOf({ 'a.liquid': '--- subject\nx\n--- text\n\n  {% if customer.name %}open\n', 'b.liquid': '--- subject\n{% iff x %}\n--- text\nx\n', 'c.liquid': '--- subject\nx\n--- text\n{% include "footer" %}\n' })).toEqual([
      'rules/templates/a.liquid:5:3: CPW331 Liquid syntax error: tag {% if customer.name %} not closed',
      'rules/templates/b.liquid:2:1: CPW331 Liquid syntax error: tag "iff" not found',
      'rules/templates/c.liquid:4:1: CPW331 Liquid syntax error: tag "include" is not available: a template is one file',
    ]);
  });

  it('translations without a default file', () => {
    expect(errorsOf({ 'apology.fr.liquid': apology('a', 'b'), 'apology.de.liquid': apology('a', 'b') })).toEqual([
      'rules/templates/apology.de.liquid: CPW334 template "apology" has translations (de, fr) but no default file apology.liquid, which customers of any other locale get',
    ]);
  });

  it('sections: unknown, twice, text before the first, subject or text missing, a bad file name', () => {
    expect(errorsOf({
      'a.liquid': 'Hello\n--- subject\nx\n--- body\ny\n--- subject\nz\n--- text\nt\n',
      'b.liquid': '--- subject\nx\n',
      'B_x.liquid': '--- subject\nx\n--- text\nt\n',
    })).toEqual([
      'rules/templates/B_x.liquid: CPW330 template file: the name is not <name>.liquid or <name>.<locale>.liquid (a kebab-case name, a BCP 47 locale such as fr or fr-CA)',
      'rules/templates/a.liquid:1:1: CPW330 template file: text before the first section: start the file with a line "--- subject" (an e-mail) or "--- title" (offer texts)',
      'rules/templates/a.liquid:4:5: CPW330 template file: unknown section "body": a template has the sections subject, text, html, title, terms',
      'rules/templates/a.liquid:6:5: CPW330 template file: section "subject" appears twice (first at line 2)',
      'rules/templates/b.liquid:1:1: CPW330 template file: no "--- text" section: an e-mail needs a subject and a text part',
    ]);
  });

  it('offer texts (--- title, --- terms): unknown variables and filters at their file:line:col, and the variables they cannot read', () => {
    expect(errorsOf({
      'drink.liquid': '# offer texts\n--- title\n{{ customer.name }}, a drink at {{ store.name | upcse }}\n--- terms\nAs in {{ offer.title }}\n  and {{ email.subject }}{{ offer.terms.size }}\n',
      'drink.fr.liquid': '--- title\nUn verre, {{ customer.nmae }}\n',
    })).toEqual([
      'rules/templates/drink.fr.liquid:2:14: CPW332 unknown template variable "customer.nmae" (did you mean "customer.name"?); the variables are listed in docs/rules.md, "Templates"',
      'rules/templates/drink.liquid:3:33: CPW333 unknown Liquid filter "upcse" (did you mean "upcase"?)',
      'rules/templates/drink.liquid:5:10: CPW332 unknown template variable "offer.title" (not in the offer\'s terms: offer.title, offer.terms, email.subject are the texts being written, or the e-mail\'s); the variables are listed in docs/rules.md, "Templates"',
      'rules/templates/drink.liquid:6:10: CPW332 unknown template variable "email.subject" (not in the offer\'s terms: offer.title, offer.terms, email.subject are the texts being written, or the e-mail\'s); the variables are listed in docs/rules.md, "Templates"',
      'rules/templates/drink.liquid:6:29: CPW332 unknown template variable "offer.terms.size" (not in the offer\'s terms: offer.title, offer.terms, email.subject are the texts being written, or the e-mail\'s); the variables are listed in docs/rules.md, "Templates"',
    ]);
  });

  it('offer texts and an e-mail in one file; the e-mail may read offer.title', () => {
    const t = templatesOf({ 'both.liquid': '--- title\nHi {{ customer.name }}\n--- subject\n{{ offer.title }}\n--- text\nx\n', 'only.liquid': '--- title\nA drink\n' });
    expect([t.serves('both', 'offer'), t.serves('both', 'email'), t.serves('only', 'offer'), t.serves('only', 'email')]).toEqual([true, true, true, false]);
    expect(t.namesFor('offer')).toEqual(['both', 'only']);
    expect(t.namesFor('email')).toEqual(['both', 'complimentary-drink', 'generic-offer']);
    expect(t.render('only', { offer })).toBeUndefined();
    expect(t.renderOfferTexts('only', {}, undefined)).toEqual({ title: 'A drink', locale: '' });
  });

  it('offer-text sections: terms without a title, none of either use, a translated title without one in the default file', () => {
    expect(errorsOf({
      'a.liquid': '--- terms\nOne drink.\n',
      'b.liquid': '# nothing\n',
      'c.liquid': '--- subject\nx\n--- text\ny\n',
      'c.fr.liquid': '--- title\nUn verre\n--- subject\nx\n--- text\ny\n',
    })).toEqual([
      'rules/templates/a.liquid:1:5: CPW330 template file: a "--- terms" section without "--- title": offer texts need a title',
      'rules/templates/b.liquid:1:1: CPW330 template file: no "--- subject" and "--- text" sections (an e-mail) and no "--- title" (offer texts)',
      'rules/templates/c.fr.liquid: CPW334 template "c" has translations (fr) but no default file c.liquid with a "--- title" section, which customers of any other locale get',
    ]);
  });

  it('hostile files fail fast: too many names in the markup or nesting too deep', () => {
    const started = Date.now();
    expect(errorsOf({ 'many.liquid': `--- subject\nx\n--- text\n${'{{ offer.code | append: offer.title }}'.repeat(5000)}\n` })).toEqual([
      'rules/templates/many.liquid: CPW330 template file: too complex: 15000 names and words inside {{ }} and {% %}, at most 3000',
    ]);
    // 1000 levels (the most the word limit lets through) parse and render; deeper ones are rejected
    const deep = (n: number) => ({ 'deep.liquid': `--- subject\nx\n--- text\n${'{% if offer.code %}'.repeat(n)}x${'{% endif %}'.repeat(n)}\n` });
    expect(templatesOf(deep(1000)).render('deep', { offer })!.text).toBe('x');
    expect(errorsOf(deep(1001))).toEqual(['rules/templates/deep.liquid: CPW330 template file: too complex: 3003 names and words inside {{ }} and {% %}, at most 3000']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
