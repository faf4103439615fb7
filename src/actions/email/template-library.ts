/**
 * The e-mail templates of a rule set: the shipped ones (builtin/*.liquid) and those of the rules
 * folder (rules/templates/*.liquid, which replace a shipped one of the same name), parsed once per
 * rule-set version with liquidjs and checked against the declared variables (template-variables.ts).
 * Rendering picks the translation by the customer's `locale` fact: `fr-CA`, then `fr`, then the
 * template's default file. HTML parts escape every output (`{{ customer.name }}` of `<script>`
 * comes out as `&lt;script&gt;`); subject and text parts are plain text, not escaped.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid, type Template } from 'liquidjs';
import { didYouMean, suggestionSuffix } from '../../rules/did-you-mean.js';
import { ruleError, sortRuleErrors, type RuleError } from '../../rules/rule-errors.js';
import { escapeHtml, headerSafe, textSafe } from './escape.js';
import { localeChain, normalizeLocale, splitTemplateFile, templateFileName, OFFER_TEXT_PARTS, TEMPLATE_PARTS, type TemplatePart } from './template-file.js';
import { isDeclaredPath, NOT_IN_OFFER_TEXTS, templateContext, TEMPLATE_VARIABLE_NAMES, type TemplateInput } from './template-variables.js';

export interface TemplateSource { file: string; text: string }
export interface RenderedEmail { subject: string; text: string; html?: string; locale: string }
/**
 * The offer's texts of a template (`--- title`, `--- terms`); `locale`: the translation used ('' the
 * default file). `terms` is absent when the file has no `--- terms`, '' when they rendered empty.
 */
export interface RenderedOfferTexts { title: string; terms?: string; locale: string }

/** What a template is used for: an e-mail (its subject and text) or the offer's texts (its title). */
export type TemplateUse = 'email' | 'offer';
const FIRST_PART: Record<TemplateUse, TemplatePart> = { email: 'subject', offer: 'title' };
/** The longest title and terms an offer carries (the rule schema's limits for the texts written in YAML). */
export const OFFER_TEXT_LIMITS = { title: 200, terms: 2000 } as const;

interface ParsedPart { templates: Template[]; line: number }
/** `written`: the sections of the file, also those that did not parse (reported on their own). */
interface ParsedLocale { file: string; parts: Partial<Record<TemplatePart, ParsedPart>>; written: ReadonlySet<TemplatePart> }
interface ParsedTemplate { name: string; defaultFile: string; locales: Map<string, ParsedLocale> }

/** A runaway loop or a huge string is an error, not a stuck e-mail channel (caught and logged as CPW509). */
const LIMITS = { parseLimit: 1_000_000, renderLimit: 1_000, memoryLimit: 10_000_000 } as const;
const SHARED = { strictVariables: true, strictFilters: true, timezoneOffset: 0, ownPropertyOnly: true, templates: {}, ...LIMITS } as const;
/** Plain-text parts (subject, text): nothing escaped. */
const plain = new Liquid(SHARED);
/** HTML parts: every `{{ }}` output HTML-escaped (`| raw` is the explicit way out). */
const html = new Liquid({ ...SHARED, outputEscape: (v: unknown) => escapeHtml(v === null || v === undefined ? '' : String(v)) });
for (const engine of [plain, html]) {
  for (const tag of ['include', 'render', 'layout']) {
    engine.registerTag(tag, { parse() { throw new Error(`tag "${tag}" is not available: a template is one file`); }, render() { return ''; } });
  }
}
const FILTERS = Object.keys(plain.filters);

/** The shipped templates (same output as the TypeScript templates they replaced). */
export const BUILTIN_DIR = fileURLToPath(new URL('../../../src/actions/email/builtin/', import.meta.url));

let builtinSources: TemplateSource[] | undefined;
export function builtinTemplateSources(): TemplateSource[] {
  builtinSources ??= readdirSync(BUILTIN_DIR).filter((f) => f.endsWith('.liquid')).sort()
    .map((f) => ({ file: join(BUILTIN_DIR, f), text: readFileSync(join(BUILTIN_DIR, f), 'utf8') }));
  return builtinSources;
}

const baseName = (file: string) => file.split(/[\\/]/).pop()!;

/** The template names the files define (whether or not they parse). */
export function templateNamesOf(sources: readonly TemplateSource[]): string[] {
  return sources.map((s) => templateFileName(baseName(s.file))?.name).filter((n): n is string => n !== undefined);
}

/** Where a liquidjs error points, as a RuleError of the template file (line shifted by the part's line). */
function liquidError(file: string, partLine: number, err: unknown): RuleError {
  const e = err as { message?: string; token?: { getPosition?: () => [number, number] } };
  const [line, col] = e.token?.getPosition?.() ?? [1, 1];
  const at = { file, line: partLine + line - 1, col };
  const message = (e.message ?? String(err)).replace(/, file:.*$/s, '').replace(/^(?:tag "\w+" )?(?:.*?: )?(tag "\w+" is not available)/, '$1');
  const filter = /^undefined filter: (\S+)/.exec(message);
  if (filter) return ruleError('TEMPLATE_UNKNOWN_FILTER', at, filter[1], suggestionSuffix(filter[1]!, FILTERS));
  return ruleError('TEMPLATE_SYNTAX', at, message);
}

/**
 * Liquid's variable analysis takes time quadratic in the variables of a template (20,000 outputs:
 * 10 s), so a hostile file could stall validate or a hot reload: the names and words inside the
 * markup are counted first. A marketer's e-mail has a few dozen.
 */
export const MAX_MARKUP_WORDS = 3000;

function markupWords(text: string): number {
  let words = 0;
  for (const m of text.matchAll(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g)) words += m[0].match(/[A-Za-z_][\w.-]*/g)?.length ?? 0;
  return words;
}

/** The dotted path a variable reads, up to its first computed segment: `offer.redemption.channel`. */
function pathOf(segments: readonly unknown[]): string {
  const names: string[] = [];
  for (const s of segments) {
    if (typeof s !== 'string') break;
    names.push(s);
  }
  return names.join('.');
}

/**
 * ` (did you mean "customer.name"?)` for `customer.nmae` or `customer.first_name`: the last name
 * among the variables of the same object first, then among all the variables.
 */
function variableHint(path: string): string {
  const cut = path.lastIndexOf('.');
  if (cut > 0) {
    const parent = path.slice(0, cut + 1);
    const siblings = TEMPLATE_VARIABLE_NAMES.filter((n) => n.startsWith(parent) && !n.slice(parent.length).includes('.')).map((n) => n.slice(parent.length));
    const near = didYouMean(path.slice(cut + 1), siblings);
    if (near !== undefined) return ` (did you mean "${parent}${near}"?)`;
  }
  const full = didYouMean(path, TEMPLATE_VARIABLE_NAMES);
  if (full !== undefined) return ` (did you mean "${full}"?)`;
  // `first_name` -> the variable whose own name is near it, the customer's when several are: customer.name
  const leaf = didYouMean(path.slice(cut + 1), new Set(TEMPLATE_VARIABLE_NAMES.map((n) => n.slice(n.lastIndexOf('.') + 1))));
  const owners = TEMPLATE_VARIABLE_NAMES.filter((n) => n.endsWith(`.${leaf}`));
  const owner = owners.length === 1 ? owners[0] : owners.find((n) => n.startsWith('customer.'));
  return leaf !== undefined && owner !== undefined ? ` (did you mean "${owner}"?)` : '';
}

function parsePart(file: string, part: TemplatePart, source: string, line: number, errors: RuleError[]): ParsedPart | undefined {
  const engine = part === 'html' ? html : plain;
  let templates: Template[];
  try {
    templates = engine.parse(source, file);
  } catch (err) {
    errors.push(liquidError(file, line, err));
    return undefined;
  }
  let globals: ReturnType<Liquid['analyzeSync']>['globals'];
  try {
    globals = engine.analyzeSync(templates, { partials: false }).globals;
  } catch (err) {
    errors.push(liquidError(file, line, err));
    return undefined;
  }
  const seen = new Set<string>();
  for (const variables of Object.values(globals)) {
    for (const v of variables) {
      const path = pathOf(v.segments);
      const offerText = (OFFER_TEXT_PARTS as readonly string[]).includes(part);
      const unavailable = offerText && NOT_IN_OFFER_TEXTS.some((n) => path === n || path.startsWith(`${n}.`));
      if (isDeclaredPath(path) && !unavailable) continue;
      const key = `${path}@${v.location.row}:${v.location.col}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const hint = unavailable ? ` (not in the offer's ${part}: ${NOT_IN_OFFER_TEXTS.join(', ')} are the texts being written, or the e-mail's)` : variableHint(path);
      errors.push(ruleError('TEMPLATE_UNKNOWN_VARIABLE', { file, line: line + v.location.row - 1, col: v.location.col }, path, hint));
    }
  }
  return { templates, line };
}

export class EmailTemplates {
  private constructor(private readonly templates: ReadonlyMap<string, ParsedTemplate>, readonly version: string) {}

  /**
   * Parses and checks template files: every problem of every file, each at its file:line:col.
   * `sources`: the rules folder's; the shipped ones come first and are replaced by name.
   */
  static build(sources: readonly TemplateSource[], builtin: readonly TemplateSource[] = builtinTemplateSources()): { ok: true; templates: EmailTemplates } | { ok: false; errors: RuleError[] } {
    const errors: RuleError[] = [];
    const own = new Set(sources.map((s) => templateFileName(baseName(s.file))?.name).filter((n) => n !== undefined));
    const all = [...builtin.filter((s) => !own.has(templateFileName(baseName(s.file))?.name ?? '')), ...sources];
    const templates = new Map<string, ParsedTemplate>();
    const hash = createHash('sha256');
    for (const { file, text } of all) {
      hash.update(`${baseName(file)}\0${text}\0`);
      const named = templateFileName(baseName(file));
      if (!named) {
        errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: 0, col: 0 }, 'the name is not <name>.liquid or <name>.<locale>.liquid (a kebab-case name, a BCP 47 locale such as fr or fr-CA)'));
        continue;
      }
      const words = markupWords(text);
      if (words > MAX_MARKUP_WORDS) {
        errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: 0, col: 0 }, `too complex: ${words} names and words inside {{ }} and {% %}, at most ${MAX_MARKUP_WORDS}`));
        continue;
      }
      const split = splitTemplateFile(text);
      for (const p of split.problems) errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: p.line, col: p.col }, p.message));
      const parts: Partial<Record<TemplatePart, ParsedPart>> = {};
      for (const part of TEMPLATE_PARTS) {
        const s = split.parts[part];
        const parsed = s && parsePart(file, part, s.source, s.line, errors);
        if (parsed) parts[part] = parsed;
      }
      const t = templates.get(named.name) ?? { name: named.name, defaultFile: '', locales: new Map() };
      templates.set(named.name, t);
      const key = named.locale === undefined ? '' : normalizeLocale(named.locale);
      const before = t.locales.get(key);
      if (before) errors.push(ruleError('TEMPLATE_FILE_INVALID', { file, line: 0, col: 0 }, `the same template and locale as ${before.file}`));
      t.locales.set(key, { file, parts, written: new Set(TEMPLATE_PARTS.filter((p) => split.parts[p] !== undefined)) });
      if (key === '') t.defaultFile = file;
    }
    for (const t of templates.values()) {
      const files = [...t.locales.values()].map((l) => l.file).sort();
      const translations = [...t.locales.keys()].sort();
      if (t.defaultFile === '') {
        errors.push(ruleError('TEMPLATE_NO_DEFAULT', { file: files[0]!, line: 0, col: 0 }, t.name, translations.join(', '), `${t.name}.liquid`));
        continue;
      }
      // a translation of the offer's texts (or of the e-mail) needs them in the default file too
      const own = t.locales.get('')!.written;
      for (const part of ['title', 'subject'] as const) {
        if (own.has(part)) continue;
        const with_ = [...t.locales.entries()].filter(([, l]) => l.written.has(part)).map(([k, l]) => ({ k, file: l.file })).sort((a, b) => (a.k < b.k ? -1 : 1));
        if (with_.length === 0) continue;
        errors.push(ruleError('TEMPLATE_NO_DEFAULT', { file: with_[0]!.file, line: 0, col: 0 }, t.name, with_.map((w) => w.k).join(', '), `${t.name}.liquid with a "--- ${part}" section`));
      }
    }
    if (errors.length > 0) return { ok: false, errors: sortRuleErrors(errors) };
    return { ok: true, templates: new EmailTemplates(templates, hash.digest('hex').slice(0, 16)) };
  }

  get names(): string[] {
    return [...this.templates.keys()].sort();
  }

  has(name: string): boolean {
    return this.templates.has(name);
  }

  /** Whether template `name` holds an e-mail (`email`: its default file has a subject) or offer texts (`offer`: a title). */
  serves(name: string, use: TemplateUse): boolean {
    return this.templates.get(name)?.locales.get('')?.parts[FIRST_PART[use]] !== undefined;
  }

  /** The templates that hold an e-mail, or offer texts. */
  namesFor(use: TemplateUse): string[] {
    return this.names.filter((n) => this.serves(n, use));
  }

  /** The locales a template is written in ('' for its default file). */
  locales(name: string): string[] {
    return [...(this.templates.get(name)?.locales.keys() ?? [])].sort();
  }

  /** The file of a template's translation ('' for the default file). */
  fileOf(name: string, locale: string): string | undefined {
    return this.templates.get(name)?.locales.get(locale)?.file;
  }

  /**
   * The translation used for a customer's locale: the most specific one there is that has the parts
   * of the use (a French file with only an e-mail leaves the offer's texts to the default), else the
   * default ('').
   */
  pick(name: string, locale: string | undefined, use: TemplateUse = 'email'): string | undefined {
    const t = this.templates.get(name);
    if (!t) return undefined;
    return localeChain(locale).find((l) => t.locales.get(l)?.parts[FIRST_PART[use]] !== undefined) ?? '';
  }

  /** Renders template `name` for `input` (undefined for an unknown name); `locale` overrides the customer's. */
  render(name: string, input: TemplateInput, locale?: string): RenderedEmail | undefined {
    return this.renderContext(name, templateContext(input), locale ?? (typeof input.facts?.locale === 'string' ? input.facts.locale : undefined));
  }

  /** Renders with a ready context (cpiwatch preview's samples). */
  renderContext(name: string, context: Record<string, unknown>, locale: string | undefined): RenderedEmail | undefined {
    const t = this.templates.get(name);
    const chosen = this.pick(name, locale, 'email');
    if (!t || chosen === undefined || !this.serves(name, 'email')) return undefined;
    const { parts } = t.locales.get(chosen)!;
    const out = (part: TemplatePart) => {
      const p = parts[part];
      return p === undefined ? undefined : (part === 'html' ? html : plain).renderSync(p.templates, context) as string;
    };
    const htmlPart = out('html');
    return { subject: headerSafe(out('subject') ?? ''), text: out('text') ?? '', ...(htmlPart === undefined ? {} : { html: htmlPart }), locale: chosen };
  }

  /**
   * The offer's texts of template `name` (undefined for an unknown name or one without a title), in
   * the translation for `locale`: plain text, nothing escaped (the offer is JSON, not HTML); the
   * title kept to one line of at most 200 characters, the terms to 2000. A value in the context is
   * data: its braces are printed, never rendered. Throws when Liquid fails (a render limit, a filter).
   */
  renderOfferTexts(name: string, context: Record<string, unknown>, locale: string | undefined): RenderedOfferTexts | undefined {
    const t = this.templates.get(name);
    const chosen = this.pick(name, locale, 'offer');
    if (!t || chosen === undefined || !this.serves(name, 'offer')) return undefined;
    const { parts } = t.locales.get(chosen)!;
    const out = (part: 'title' | 'terms') => {
      const p = parts[part];
      return p === undefined ? undefined : (plain.renderSync(p.templates, context) as string);
    };
    const title = headerSafe((out('title') ?? '').replace(/\s+/g, ' ')).slice(0, OFFER_TEXT_LIMITS.title);
    const terms = out('terms');
    const termsText = terms === undefined ? undefined : textSafe(terms).slice(0, OFFER_TEXT_LIMITS.terms);
    return { title, ...(termsText === undefined ? {} : { terms: termsText }), locale: chosen };
  }
}
