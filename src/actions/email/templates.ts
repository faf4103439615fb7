/**
 * E-mail templates, one per offer kind a rule may name (`email.template`). Every customer-supplied or
 * rule-supplied value is HTML-escaped in the HTML part and stripped of line breaks in headers, so a
 * name such as `<script>` or a subject with CR/LF cannot inject markup or headers.
 */
import { EMAIL_TEMPLATES, isEmailTemplate, type EmailTemplateName } from '../../rules/email-templates.js';
import type { OfferData } from '../offer-event.js';

export interface RenderedEmail { subject: string; text: string; html: string }
export interface TemplateInput { offer: OfferData; customerName?: string; subject?: string }

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A header-safe single line (no CR/LF or other control characters), at most 200 characters. */
export function headerSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
}

function greeting(name?: string): string {
  return name ? `Hi ${name},` : 'Hi,';
}

function lines(input: TemplateInput, intro: string): { text: string; html: string } {
  const o = input.offer.offer;
  const expires = new Date(o.expiresAt).toUTCString();
  const parts = [greeting(input.customerName), '', intro, '', o.title, ...(o.terms ? [o.terms] : []), ...(o.redemption?.instructions ? [o.redemption.instructions] : []), '', `Code: ${o.code} (valid until ${expires})`];
  const html = `<!doctype html><html><body>${parts.map((p) => (p === '' ? '' : `<p>${escapeHtml(p)}</p>`)).join('')}</body></html>`;
  return { text: parts.join('\n'), html };
}

/** One renderer per name of rules/email-templates.ts (the rule checks warn on any other name). */
export const TEMPLATES: Record<EmailTemplateName, (input: TemplateInput) => RenderedEmail> = {
  'complimentary-drink': (input) => ({
    subject: headerSafe(input.subject ?? 'Sorry for the wait - your next drink is on us'),
    ...lines(input, 'Pickups at the store you are heading to are taking longer than we promised. We are sorry, and we would like to make it up to you.'),
  }),
  'generic-offer': (input) => ({
    subject: headerSafe(input.subject ?? input.offer.offer.title),
    ...lines(input, 'We noticed things did not go as well as they should have, and we would like to make it up to you.'),
  }),
};

export const TEMPLATE_NAMES: readonly EmailTemplateName[] = EMAIL_TEMPLATES;

export function renderEmail(template: string, input: TemplateInput): RenderedEmail | undefined {
  return isEmailTemplate(template) ? TEMPLATES[template](input) : undefined;
}
