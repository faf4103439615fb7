/**
 * The texts of the offer on Kafka (its `title` and `terms`). A rule's `offer.title` and `offer.terms`
 * are plain text, sent as written; a rule that names `offer.template` gets that template's
 * `--- title` and `--- terms` sections (templates/<name>.liquid and its translations, the files and
 * the variables of the e-mail templates) in the customer's language, rendered when the offer is
 * decided, from the offer, its trigger and the facts of the customer and of the breaching store as
 * of the decision's event time: the same texts in `run`, `backtest` and `test`, and again in a replay.
 * A template that fails to render (a render limit, a filter on odd data) or renders an empty title
 * never stops the decision: the rule's own texts are used and the fallback is recorded (CPW509).
 */
import { parseTag } from '../cpis/tags.js';
import { messageOf } from '../errors/cpiwatch-error.js';
import type { EmailTemplates } from './email/template-library.js';
import { templateContext } from './email/template-variables.js';
import type { Decision, OfferTexts } from './decision.js';
import { offerEventOf } from './offer-event.js';

export interface DecisionFacts {
  /** The customer's facts as of the decision (customer.profile). */
  customer: Readonly<Record<string, unknown>> | null;
  /** The breaching scope's facts as of the decision (store.profile when the scope is a store). */
  scope: Readonly<Record<string, unknown>> | null;
}

/** The rendered texts of an offered decision; undefined for a rule without `offer.template`. */
export function offerTextsOf(d: Decision, facts: DecisionFacts, templates: EmailTemplates): OfferTexts | undefined {
  const template = d.rule.offer.template;
  if (template === undefined) return undefined;
  const byStore = parseTag(d.scopeTag).dimension === 'storeId';
  const customer = facts.customer ?? {};
  const input = { offer: offerEventOf({ ...d, texts: undefined }).data, facts: customer, ...(byStore && facts.scope ? { store: facts.scope } : {}) };
  const locale = typeof customer.locale === 'string' ? customer.locale : undefined;
  const fallback = (reason: string): OfferTexts => ({
    title: d.rule.offer.title,
    ...(d.rule.offer.terms !== undefined ? { terms: d.rule.offer.terms } : {}),
    fallback: { template, reason },
  });
  let rendered;
  try {
    rendered = templates.renderOfferTexts(template, templateContext(input), locale);
  } catch (err) {
    return fallback((err as Error).message);
  }
  if (!rendered) return fallback(`the rule set has no template "${template}" with a "--- title" section`);
  if (rendered.title === '') return fallback(`the title of ${template}${rendered.locale === '' ? '' : ` (${rendered.locale})`} rendered empty`);
  // no --- terms in the file: the rule's; terms that rendered empty (an {% if %} that did not hold): none
  const terms = rendered.terms === undefined ? d.rule.offer.terms : rendered.terms === '' ? undefined : rendered.terms;
  return { title: rendered.title, ...(terms !== undefined ? { terms } : {}), ...(rendered.locale !== '' ? { locale: rendered.locale } : {}) };
}

/** The CPW509 message of an offer published with the rule's own texts. */
export function offerTextFallbackMessage(offerId: string, fallback: NonNullable<OfferTexts['fallback']>): string {
  return messageOf('TEMPLATE_RENDER_FAILED', 'offer-text', fallback.template, offerId, fallback.reason, "the rule's offer.title and offer.terms were published");
}
