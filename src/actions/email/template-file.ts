/**
 * One template file: `rules/templates/<name>.liquid` (the default language) or
 * `<name>.<locale>.liquid` (a translation, e.g. `apology.fr.liquid`, `apology.fr-CA.liquid`),
 * holding its parts as sections, each opened by a line of its own:
 *
 *   # a comment (only before the first section)
 *   --- subject
 *   Sorry for the wait, {{ customer.name | default: "there" }}
 *   --- text
 *   ...
 *   --- html
 *   <p>...</p>
 *
 * and/or the texts of the offer on Kafka (a rule's `offer.template`):
 *
 *   --- title
 *   {{ customer.name | default: "Hello" }}, free shipping on your next order
 *   --- terms
 *   ...
 *
 * An e-mail needs `subject` and `text` (`html` is optional: without it the e-mail has a text part
 * only), offer texts need `title` (`terms` is optional); a file has one or both. A section's text is
 * its lines without the last line break; each part keeps the line of its first line in the file, so
 * Liquid's positions map back to file:line:col.
 */

export const TEMPLATE_PARTS = ['subject', 'text', 'html', 'title', 'terms'] as const;
export type TemplatePart = (typeof TEMPLATE_PARTS)[number];
/** The parts of an e-mail, and of the offer's texts (what each kind of use needs first). */
export const EMAIL_PARTS = ['subject', 'text', 'html'] as const satisfies readonly TemplatePart[];
export const OFFER_TEXT_PARTS = ['title', 'terms'] as const satisfies readonly TemplatePart[];

export interface TemplatePartSource {
  source: string;
  /** 1-based line of the part's first line in the file. */
  line: number;
}

export interface TemplateFileName { name: string; locale?: string }

export interface TemplateFileProblem { line: number; col: number; message: string }

const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const LOCALE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/;
const MARKER = /^---[ \t]*([A-Za-z-]*)[ \t]*$/;

/** `apology.fr-CA.liquid` -> { name: 'apology', locale: 'fr-CA' }; undefined for a name that is none. */
export function templateFileName(base: string): TemplateFileName | undefined {
  const m = /^([^.]+)(?:\.([^.]+))?\.liquid$/.exec(base);
  if (!m || !NAME.test(m[1]!)) return undefined;
  if (m[2] === undefined) return { name: m[1]! };
  return LOCALE.test(m[2]) ? { name: m[1]!, locale: m[2] } : undefined;
}

/** Lower case with `-` between subtags: `fr_CA` -> `fr-ca`. */
export function normalizeLocale(locale: string): string {
  return locale.trim().replace(/_/g, '-').toLowerCase();
}

/** `fr-CA` -> ['fr-ca', 'fr']: the translations to try, most specific first (the default comes last). */
export function localeChain(locale: string | undefined): string[] {
  if (locale === undefined || !LOCALE.test(locale.trim())) return [];
  const parts = normalizeLocale(locale).split('-');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('-'));
}

/** The parts of a template file, or what is wrong with its sections. */
export function splitTemplateFile(text: string): { parts: Partial<Record<TemplatePart, TemplatePartSource>>; problems: TemplateFileProblem[] } {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const parts: Partial<Record<TemplatePart, TemplatePartSource>> = {};
  const problems: TemplateFileProblem[] = [];
  let open: { part: TemplatePart; line: number; body: string[] } | undefined;
  let skipping = false; // inside a section that is reported (unknown or twice)
  let seenText = false;
  const close = () => {
    if (!open) return;
    const body = open.body.join('\n');
    parts[open.part] = { source: body.endsWith('\n') ? body.replace(/\n+$/, '') : body, line: open.line + 1 };
  };
  lines.forEach((raw, i) => {
    const line = i + 1;
    const marker = MARKER.exec(raw);
    if (marker) {
      const name = marker[1]!;
      close();
      open = undefined;
      skipping = true;
      if (!(TEMPLATE_PARTS as readonly string[]).includes(name)) {
        problems.push({ line, col: 5, message: `unknown section "${name}": a template has the sections ${TEMPLATE_PARTS.join(', ')}` });
      } else if (parts[name as TemplatePart]) {
        problems.push({ line, col: 5, message: `section "${name}" appears twice (first at line ${parts[name as TemplatePart]!.line - 1})` });
      } else {
        open = { part: name as TemplatePart, line, body: [] };
        skipping = false;
      }
      return;
    }
    if (open) open.body.push(raw);
    else if (!skipping && !seenText && raw.trim() !== '' && !raw.trimStart().startsWith('#')) {
      seenText = true;
      problems.push({ line, col: 1, message: 'text before the first section: start the file with a line "--- subject" (an e-mail) or "--- title" (offer texts)' });
    }
  });
  close();
  if (problems.length === 0) {
    const email = EMAIL_PARTS.some((p) => parts[p]);
    if (parts.terms && !parts.title) problems.push({ line: parts.terms.line - 1, col: 5, message: 'a "--- terms" section without "--- title": offer texts need a title' });
    else if (!email && !parts.title) problems.push({ line: 1, col: 1, message: 'no "--- subject" and "--- text" sections (an e-mail) and no "--- title" (offer texts)' });
    for (const required of email ? (['subject', 'text'] as const) : []) {
      if (!parts[required]) problems.push({ line: 1, col: 1, message: `no "--- ${required}" section: an e-mail needs a subject and a text part` });
    }
  }
  return { parts, problems };
}
