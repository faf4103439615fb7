/**
 * The e-mail templates a rule may name in `email.template`. actions/email/templates.ts renders one
 * for each (its table is typed by these names, so the two lists cannot drift apart); a rule naming
 * another gets a warning, and its e-mails the generic-offer template.
 */
export const EMAIL_TEMPLATES = ['complimentary-drink', 'generic-offer'] as const;

export type EmailTemplateName = (typeof EMAIL_TEMPLATES)[number];

export function isEmailTemplate(name: string): name is EmailTemplateName {
  return (EMAIL_TEMPLATES as readonly string[]).includes(name);
}
