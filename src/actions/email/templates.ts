/**
 * E-mail rendering for the e-mail channel and `cpiwatch preview`: the template a rule names in
 * `email.template`, from the rule set's templates (template-library.ts: the shipped builtin/*.liquid
 * and the rules folder's templates/*.liquid), in the customer's language. An unknown name (a rule set
 * loaded without its templates) falls back to the shipped generic-offer template.
 */
import { EmailTemplates, type RenderedEmail } from './template-library.js';
import type { TemplateInput } from './template-variables.js';

export { escapeHtml, headerSafe } from './escape.js';
export type { RenderedEmail } from './template-library.js';
export type { TemplateInput } from './template-variables.js';

let shipped: EmailTemplates | undefined;

/** The shipped templates alone (a rule set without a templates folder uses these). */
export function shippedTemplates(): EmailTemplates {
  if (!shipped) {
    const built = EmailTemplates.build([]);
    if (!built.ok) throw new Error(`the shipped e-mail templates do not parse: ${built.errors.map((e) => e.message).join('; ')}`);
    shipped = built.templates;
  }
  return shipped;
}

/** Names of the shipped templates. */
export function shippedTemplateNames(): string[] {
  return shippedTemplates().namesFor('email');
}

/** Renders `template` from `templates` (default: the shipped ones); undefined for an unknown name. */
export function renderEmail(template: string, input: TemplateInput, templates: EmailTemplates = shippedTemplates()): RenderedEmail | undefined {
  return templates.render(template, input);
}
