// The offer's texts on Kafka from a rule's offer.template: rendered from the facts as of the decision,
// in the customer's language with fallback, plain text (no escaping, no template injection), and the
// rule's own texts, flagged, when the template fails or renders an empty title.
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/actions/decision.js';
import { EmailTemplates, type TemplateSource } from '../../../src/actions/email/template-library.js';
import { offerEventOf } from '../../../src/actions/offer-event.js';
import { offerIdOf } from '../../../src/actions/offer-id.js';
import { OfferEvent } from '../../../src/actions/offer-schema.js';
import { offerTextFallbackMessage, offerTextsOf } from '../../../src/actions/offer-texts.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

function templatesOf(files: Record<string, string>): EmailTemplates {
  const built = EmailTemplates.build(Object.entries(files).map(([file, text]): TemplateSource => ({ file: `rules/templates/${file}`, text })));
  if (!built.ok) throw new Error(built.errors.map(formatRuleError).join('\n'));
  return built.templates;
}

const loaded = await loadRuleSet(['rules']);
if (!loaded.ok) throw new Error('example rules invalid');
const shipped = loaded.ruleSet;
const drink = shipped.rules.find((r) => r.id === 'curbside-flash-drink')!;
const voucher = shipped.rules.find((r) => r.id === 'slow-shipping-voucher')!;

function decision(rule = drink, scopeTag = 'storeId=S1'): Decision {
  const episode = Date.UTC(2026, 10, 23, 18, 6);
  return { offerId: offerIdOf(rule.id, 'C1', scopeTag, episode), outcome: 'offered', rule, customerId: 'C1', scopeTag, time: episode, episode, value: 1.62, replay: false };
}

/** The curbside rule with offer texts from template `drink` of `files`. */
function withTemplate(files: Record<string, string>) {
  const rule = { ...drink, offer: { ...drink.offer, template: 'drink' } };
  return { d: decision(rule), templates: templatesOf(files) };
}

describe('offer texts from a template', () => {
  it('the shipped example: English by default, French for fr-CA, the name from the facts, the date from the offer', () => {
    const d = decision(voucher, 'region=north');
    const templates = shipped.templates!;
    expect(offerTextsOf(d, { customer: null, scope: null }, templates)).toEqual({
      title: 'Free shipping on your next order', terms: 'Free standard shipping on one order before December 23, 2026.',
    });
    expect(offerTextsOf(d, { customer: { name: 'Zoé', locale: 'fr-CA' }, scope: null }, templates)).toEqual({
      title: 'Zoé, la livraison offerte sur votre prochaine commande', terms: 'Livraison standard offerte sur une commande passée avant le 23/12/2026.', locale: 'fr',
    });
    // a locale with no translation (de) and one that is no locale at all get the default file
    expect(offerTextsOf(d, { customer: { name: 'Ana', locale: 'de-DE' }, scope: null }, templates)?.title).toBe('Ana, free shipping on your next order');
    expect(offerTextsOf(d, { customer: { name: 'Ana', locale: '12' }, scope: null }, templates)?.locale).toBeUndefined();
  });

  it('the store facts of a per-store CPI, the trigger and the offer are variables; the text is plain, one line', () => {
    const { d, templates } = withTemplate({
      'drink.liquid': '--- title\n{{ customer.name }}, a drink on us\n  at {{ store.name }} & co <b>\n--- terms\nOne drink ({{ trigger.value | round: 1 }} x the promise); code {{ offer.code }}.\n',
    });
    const texts = offerTextsOf(d, { customer: { name: 'Ana' }, scope: { name: 'Springfield Mall' } }, templates);
    expect(texts).toEqual({ title: 'Ana, a drink on us at Springfield Mall & co <b>', terms: 'One drink (1.6 x the promise); code CURBSIDE-DRINK.' });
  });

  it('a fact is data, never template source: braces in a name are printed as they are', () => {
    const { d, templates } = withTemplate({ 'drink.liquid': '--- title\nHi {{ customer.name }}\n' });
    expect(offerTextsOf(d, { customer: { name: '{{ offer.code }}{% if x %}' }, scope: null }, templates)?.title).toBe('Hi {{ offer.code }}{% if x %}');
  });

  it('locale fallback: fr-CA, then fr, then the default; a translation without a title leaves it to the default', () => {
    const { d, templates } = withTemplate({
      'drink.liquid': '--- title\nA drink on us\n--- subject\nA drink\n--- text\nHello\n',
      'drink.fr.liquid': '--- title\nUn verre offert\n--- terms\nUn seul.\n',
      'drink.fr-CA.liquid': '--- title\nUn breuvage offert\n',
      'drink.de.liquid': '--- subject\nEin Getränk\n--- text\nHallo\n',
    });
    const at = (locale: string) => offerTextsOf(d, { customer: { locale }, scope: null }, templates);
    expect(at('fr_CA')).toEqual({ title: 'Un breuvage offert', terms: drink.offer.terms, locale: 'fr-ca' });
    expect(at('fr-BE')).toEqual({ title: 'Un verre offert', terms: 'Un seul.', locale: 'fr' });
    expect(at('de')).toEqual({ title: 'A drink on us', terms: drink.offer.terms });
  });

  it('terms that render empty leave the offer without terms; a file without terms gives the rule\'s', () => {
    const { d, templates } = withTemplate({ 'drink.liquid': '--- title\nA drink\n--- terms\n{% if customer.valueTier == "gold" %}Gold only.{% endif %}\n', 'drink.fr.liquid': '--- title\nUn verre\n' });
    expect(offerTextsOf(d, { customer: { valueTier: 'gold' }, scope: null }, templates)).toEqual({ title: 'A drink', terms: 'Gold only.' });
    expect(offerTextsOf(d, { customer: { valueTier: 'silver' }, scope: null }, templates)).toEqual({ title: 'A drink' });
    expect(offerTextsOf(d, { customer: { locale: 'fr' }, scope: null }, templates)).toEqual({ title: 'Un verre', terms: drink.offer.terms, locale: 'fr' });
  });

  it('a render failure on odd data or an empty title falls back to the rule\'s texts, with the reason', () => {
    // a computed key the facts do not have fails under strict variables at render time, not in validate
    const { d, templates } = withTemplate({ 'drink.liquid': '--- title\n{{ customer[trigger.cpi] }} on us\n' });
    const failed = offerTextsOf(d, { customer: { name: 'Ana' }, scope: null }, templates)!;
    expect(failed).toMatchObject({ title: drink.offer.title, terms: drink.offer.terms, fallback: { template: 'drink' } });
    expect(failed.fallback!.reason).toContain('undefined variable');
    expect(offerTextFallbackMessage(d.offerId, failed.fallback!)).toMatch(/^offer-text template drink failed to render for offer [0-9a-f-]+: .*; the rule's offer.title and offer.terms were published$/);
    const empty = withTemplate({ 'drink.liquid': '--- title\n{{ customer.name }}\n' });
    expect(offerTextsOf(empty.d, { customer: null, scope: null }, empty.templates)).toEqual({
      title: drink.offer.title, terms: drink.offer.terms, fallback: { template: 'drink', reason: 'the title of drink rendered empty' },
    });
  });

  it('the offer event carries the rendered texts and the locale, and stays a valid v1 offer; without a template it is unchanged', () => {
    const d = decision(voucher, 'region=north');
    const texts = offerTextsOf(d, { customer: { locale: 'fr' }, scope: null }, shipped.templates!)!;
    const event = offerEventOf({ ...d, texts });
    expect(OfferEvent.parse(event)).toEqual(event);
    expect(event.data.offer).toMatchObject({ title: 'La livraison offerte sur votre prochaine commande', locale: 'fr' });
    const plain = offerEventOf(decision());
    expect(plain.data.offer.title).toBe(drink.offer.title);
    expect('locale' in plain.data.offer).toBe(false);
    expect(offerTextsOf(decision(), { customer: { locale: 'fr' }, scope: null }, shipped.templates!)).toBeUndefined();
  });
});
