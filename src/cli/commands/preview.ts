/**
 * `cpiwatch preview <template>`: renders one template with sample data, as a customer of a locale
 * would get it, so a marketer sees the result before a rule sends it: the offer's texts (`--- title`,
 * `--- terms`, what a rule's `offer.template` publishes on Kafka) and the e-mail (subject, text, html),
 * whichever the template has. The e-mail reads the rendered title and terms as offer.title and
 * offer.terms, as it does for a real offer (unless --data sets them).
 *
 *   cpiwatch preview shipping-apology --rules rules/ --locale fr-CA --data ana.json --html out.html
 *
 * Every declared variable (docs/rules.md, "Templates") has a sample value; `--data` overrides them
 * from a JSON object, nested (`{"customer": {"name": "Zoë"}}`) or flat (`{"customer.name": "Zoë"}`).
 * The templates are checked as `cpiwatch validate` checks them: a broken one is reported, not rendered.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { EmailTemplates } from '../../actions/email/template-library.js';
import { readTemplateSources } from '../../actions/email/template-folder.js';
import { sampleContext, TEMPLATE_VARIABLE_NAMES } from '../../actions/email/template-variables.js';
import { suggestionSuffix } from '../../rules/did-you-mean.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { defineCommand, usageError } from '../flags.js';

export const previewCommand = defineCommand({
  name: 'preview',
  usage: ['cpiwatch preview <template> [--rules <dir>] [--locale <locale>] [--data <file.json>] [--html <file>]'],
  description: `Renders a template (a shipped one, or templates/<name>.liquid of the rules folder) with a
sample value for every variable, in the translation a customer of --locale gets (fr-CA, then fr, then
the default file). Prints the offer's title and terms (a rule's offer.template) and the e-mail's
subject, text part and HTML part, whichever the template has; --html writes the HTML part to a file
instead.`,
  options: {
    rules: { type: 'string', value: 'dir', default: 'rules', description: 'the rules folder whose templates/ to read' },
    locale: { type: 'string', value: 'locale', description: 'the customer locale (default: the data\'s customer.locale, en-US in the samples)' },
    data: { type: 'string', value: 'file.json', description: 'JSON object of variable values replacing the samples' },
    html: { type: 'string', value: 'file', description: 'write the HTML part to this file instead of printing it' },
  },
  args: { name: '<template>', min: 1, max: 1, missing: 'no template name given' },
  footer: 'Exit status: 0 rendered, 1 invalid templates, 2 usage error (unknown template, unreadable --data).',
}, async ({ rules, locale, data, html }, [name], io) => {
  const read = await readTemplateSources([rules]);
  const built = EmailTemplates.build(read.sources);
  const errors = [...read.errors, ...(built.ok ? [] : built.errors)];
  if (errors.length > 0 || !built.ok) {
    for (const e of errors) io.stderr(`${formatRuleError(e)}\n`);
    io.stderr(`cpiwatch preview: ${errors.length} error(s) in the templates of ${rules}; nothing rendered\n`);
    return 1;
  }
  const templates = built.templates;
  if (!templates.has(name!)) {
    throw usageError(`unknown template "${name}"${suggestionSuffix(name!, templates.names)}; templates: ${templates.names.join(', ')}`);
  }
  let values: Record<string, unknown> = {};
  if (data !== undefined) {
    try {
      values = JSON.parse(await readFile(data, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw usageError(`cannot read --data ${data}: ${(err as Error).message}`);
    }
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw usageError(`--data ${data} is not a JSON object`);
  }
  if (locale !== undefined) values = { ...values, 'customer.locale': locale };
  const { context, unknown } = sampleContext(values);
  if (unknown.length > 0) {
    throw usageError(`--data ${data} sets ${unknown.map((u) => `"${u}"${suggestionSuffix(u, TEMPLATE_VARIABLE_NAMES)}`).join(', ')}, which no template has`);
  }
  const customerLocale = (context.customer as { locale: string | null }).locale ?? undefined;
  const from = (locale: string) => `${locale === '' ? 'default file' : `locale ${locale}`}: ${templates.fileOf(name!, locale)}`;
  const header = (locale: string) => io.stdout(`template: ${name} (${from(locale)}), for locale ${customerLocale ?? '(none)'}\n`);
  let texts;
  try {
    texts = templates.renderOfferTexts(name!, context, customerLocale);
  } catch (err) {
    io.stderr(`cpiwatch preview: ${name} failed to render its title or terms: ${(err as Error).message}; a running processor would publish the rule's offer.title and offer.terms (CPW509)\n`);
    return 1;
  }
  const offer = context.offer as Record<string, unknown>;
  const sets = (field: string) => `offer.${field}` in values || (values.offer as Record<string, unknown> | undefined)?.[field] !== undefined;
  if (texts) {
    header(texts.locale);
    const terms = texts.terms === undefined ? "(none in the template: the offer has the rule's offer.terms)" : texts.terms === '' ? '(rendered empty: the offer has no terms)' : texts.terms;
    io.stdout(`title: ${texts.title === '' ? "(rendered empty: the offer would have the rule's offer.title, CPW509)" : texts.title}\nterms: ${terms}\n`);
    if (!sets('title')) offer.title = texts.title;
    if (!sets('terms') && texts.terms !== undefined) offer.terms = texts.terms === '' ? null : texts.terms;
  }
  const mail = templates.renderContext(name!, context, customerLocale);
  if (!mail) {
    io.stdout('--- e-mail\n(none: the template has no subject and text parts)\n');
    return 0;
  }
  if (!texts) header(mail.locale);
  else if (texts.locale !== mail.locale) io.stdout(`e-mail: ${from(mail.locale)}\n`);
  io.stdout(`subject: ${mail.subject}\n--- text\n${mail.text}\n`);
  if (mail.html === undefined) io.stdout('--- html\n(none: the template has no html part)\n');
  else if (html !== undefined) {
    await writeFile(html, mail.html);
    io.stdout(`--- html\nwritten to ${html}\n`);
  } else io.stdout(`--- html\n${mail.html}\n`);
  return 0;
});
