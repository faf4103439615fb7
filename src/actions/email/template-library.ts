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
import { escapeHtml, headerSafe } from './escape.js';
import { localeChain, normalizeLocale, splitTemplateFile, templateFileName, TEMPLATE_PARTS, type TemplatePart } from './template-file.js';
import { isDeclaredPath, templateContext, TEMPLATE_VARIABLE_NAMES, type TemplateInput } from './template-variables.js';

export interface TemplateSource { file: string; text: string }
export interface RenderedEmail { subject: string; text: string; html?: string; locale: string }

interface ParsedPart { templates: Template[]; line: number }
interface ParsedLocale { file: string; parts: Partial<Record<TemplatePart, ParsedPart>> }
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
      if (isDeclaredPath(path)) continue;
      const key = `${path}@${v.location.row}:${v.location.col}`;
      if (seen.has(key)) continue;
      seen.add(key);
      errors.push(ruleError('TEMPLATE_UNKNOWN_VARIABLE', { file, line: line + v.location.row - 1, col: v.location.col }, path, variableHint(path)));
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
      t.locales.set(key, { file, parts });
      if (key === '') t.defaultFile = file;
    }
    for (const t of templates.values()) {
      if (t.defaultFile !== '') continue;
      const files = [...t.locales.values()].map((l) => l.file).sort();
      const translations = [...t.locales.keys()].sort();
      errors.push(ruleError('TEMPLATE_NO_DEFAULT', { file: files[0]!, line: 0, col: 0 }, t.name, translations.join(', '), `${t.name}.liquid`));
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

  /** The locales a template is written in ('' for its default file). */
  locales(name: string): string[] {
    return [...(this.templates.get(name)?.locales.keys() ?? [])].sort();
  }

  /** The file of a template's translation ('' for the default file). */
  fileOf(name: string, locale: string): string | undefined {
    return this.templates.get(name)?.locales.get(locale)?.file;
  }

  /** The translation used for a customer's locale: the most specific one there is, else the default (''). */
  pick(name: string, locale: string | undefined): string | undefined {
    const t = this.templates.get(name);
    if (!t) return undefined;
    return localeChain(locale).find((l) => t.locales.has(l)) ?? '';
  }

  /** Renders template `name` for `input` (undefined for an unknown name); `locale` overrides the customer's. */
  render(name: string, input: TemplateInput, locale?: string): RenderedEmail | undefined {
    return this.renderContext(name, templateContext(input), locale ?? (typeof input.facts?.locale === 'string' ? input.facts.locale : undefined));
  }

  /** Renders with a ready context (cpiwatch preview's samples). */
  renderContext(name: string, context: Record<string, unknown>, locale: string | undefined): RenderedEmail | undefined {
    const t = this.templates.get(name);
    const chosen = this.pick(name, locale);
    if (!t || chosen === undefined) return undefined;
    const { parts } = t.locales.get(chosen)!;
    const out = (part: TemplatePart) => {
      const p = parts[part];
      return p === undefined ? undefined : (part === 'html' ? html : plain).renderSync(p.templates, context) as string;
    };
    const htmlPart = out('html');
    return { subject: headerSafe(out('subject') ?? ''), text: out('text') ?? '', ...(htmlPart === undefined ? {} : { html: htmlPart }), locale: chosen };
  }
}
