/**
 * The e-mail templates a rule may name in `email.template`: the shipped ones (src/actions/email/
 * builtin/*.liquid) and those of the rules folder (templates/*.liquid). cross-checks.ts rejects any
 * other name (CPW502) with a did-you-mean among these.
 */
import { shippedTemplateNames } from '../actions/email/templates.js';

/** The names known without a templates folder. */
export function defaultTemplateNames(): readonly string[] {
  return shippedTemplateNames();
}
