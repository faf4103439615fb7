/**
 * The templates a rule may name in `email.template` (those with an e-mail) and in `offer.template`
 * (those with offer texts): the shipped ones (src/actions/email/builtin/*.liquid) and those of the
 * rules folder (templates/*.liquid). cross-checks.ts rejects any other name (CPW502) with a
 * did-you-mean among these.
 */
import type { TemplateUse } from '../actions/email/template-library.js';
import { shippedTemplateNames, shippedTemplates } from '../actions/email/templates.js';

/** The names known without a templates folder: of the templates holding an e-mail, or offer texts. */
export function defaultTemplateNames(use: TemplateUse = 'email'): readonly string[] {
  return use === 'email' ? shippedTemplateNames() : shippedTemplates().namesFor('offer');
}
