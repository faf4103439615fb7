/**
 * Placeholders in the texts a customer reads (offer title, terms and redemption instructions, the
 * e-mail subject): `{{ first_name }}` as Liquid, Handlebars or Mustache write them, `{% if %}`,
 * `${name}`, `{name}`, Mailchimp's `*|FNAME|*` and Salesforce's `%%FirstName%%`. Nothing in
 * cpiwatch fills them: texts are sent exactly as written, so a customer would read the braces.
 * cross-checks.ts reports each one (CPW322) with the text as it could be written instead.
 */

export interface Placeholder {
  /** As written, e.g. `{{ first_name }}`. */
  text: string;
  /** Offset in the text. */
  index: number;
  /** The variable it names, e.g. `first_name`, `offer.code`; '' for a tag such as `{% if %}`. */
  name: string;
}

// each form on its own, bounded (hostile files put 200 kB strings in every field)
const FORMS = [
  /\{\{\{?-?\s*([^{}]{0,80}?)\s*-?\}?\}\}/g, // {{ name }}, {{{ name }}}, {{- name -}}
  /\{%-?\s*([^%]{0,80}?)\s*-?%\}/g, // {% if x %}
  /\$\{\s*([^{}]{0,80}?)\s*\}/g, // ${name}
  /\*\|([A-Za-z0-9_:]{1,40})\|\*/g, // *|FNAME|*
  /%%([A-Za-z][A-Za-z0-9_.]{0,40})%%/g, // %%FirstName%%
  /\{([A-Za-z_][A-Za-z0-9_.]{0,40})\}/g, // {first_name}
];

/** Every placeholder of the text, in order; overlapping forms count once (the first found). */
export function findPlaceholders(text: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const form of FORMS) {
    for (const m of text.matchAll(form)) {
      const index = m.index;
      if (found.some((p) => index < p.index + p.text.length && p.index < index + m[0].length)) continue;
      const tag = m[0].startsWith('{%');
      found.push({ text: m[0], index, name: tag ? '' : (m[1] ?? '').split('|')[0]!.trim() });
    }
  }
  return found.sort((a, b) => a.index - b.index).slice(0, 10);
}

/** What the offer's own fields are called in a placeholder: `{{ code }}`, `{{ offer.code }}`. */
const OFFER_FIELDS = ['code', 'title', 'kind'] as const;

/**
 * The text as it could be written without placeholders: one naming a field of the offer becomes
 * that field's value ("Your code {{ offer.code }}" -> "Your code CURBSIDE-DRINK"), any other is
 * left out, with the spaces and commas around it ("Sorry {{ first_name }}, ..." -> "Sorry, ...").
 * Undefined when nothing sensible is left.
 */
export function withoutPlaceholders(text: string, offer: Partial<Record<(typeof OFFER_FIELDS)[number], string>> = {}): string | undefined {
  const placeholders = findPlaceholders(text);
  let out = '';
  let at = 0;
  for (const p of placeholders) {
    const field = p.name.replace(/^offer\./i, '').toLowerCase();
    const value = (OFFER_FIELDS as readonly string[]).includes(field) ? offer[field as (typeof OFFER_FIELDS)[number]] : undefined;
    out += text.slice(at, p.index) + (value ?? '');
    at = p.index + p.text.length;
  }
  out += text.slice(at);
  const startsWithOne = placeholders[0]?.index === 0;
  let tidy = out
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ +([,.!?;:])/g, '$1')
    .replace(/([,;:])(?:\s*[,;:])+/g, '$1')
    .replace(/^[\s,;:.!?-]+/, '')
    .replace(/[\s,;:-]+$/, '');
  if (startsWithOne) tidy = tidy.charAt(0).toUpperCase() + tidy.slice(1);
  return /[A-Za-z0-9]/.test(tidy) && tidy !== text ? tidy : undefined;
}

/** Whether a placeholder asks for the customer's name (which the e-mail's greeting has already). */
export function namesTheCustomer(p: Placeholder): boolean {
  return /^(?:(?:customer|contact|user|profile|subscriber)[._])?(?:first[_ ]?name|firstname|fname|name|full[_ ]?name)$/i.test(p.name);
}
