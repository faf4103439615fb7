/**
 * The checks of a rule set that need more than one field or more than one file: duplicate ids,
 * unknown CPIs, window arithmetic, hysteresis, guardrails that can never allow an offer, time zones,
 * event types and fields (event-fields.ts); items with schema errors are checked on what is valid
 * in them. A CPI or rule that passes is compiled (build-rule.ts). Positions come from each file's
 * Locator: this module never sees YAML.
 */
import type { z } from 'zod';
import { ErrorCodes, type ErrorName } from '../errors/codes.js';
import { isRecord } from '../shared/plain-data.js';
import type { CompiledCpi, CompiledPolicy, CompiledRule, CpiMeasure, Predicate, SourcePosition } from './compiled.js';
import { buildRule, matcher } from './build-rule.js';
import { checkConditions, type CpiLookup } from './condition-checks.js';
import { durationMs, isTimeZone, suggestTimeZone, UNIT_MS } from './clock.js';
import { didYouMean, suggestionSuffix } from './did-you-mean.js';
import { defaultTemplateNames } from './email-templates.js';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import type { EventTypeRegistry } from '../events/registry.js';
import { cpiEventTypes, CUSTOMER_FACTS_EVENT, EventChecks, lookupField, type Reporter } from './event-fields.js';
import type { ParsedItem, ParsedRuleFile } from './parsed-rule-file.js';
import { findPlaceholders, namesTheCustomer, withoutPlaceholders } from './placeholders.js';
import { asWarning, formatLocation, formatPath, isWithinPath, ruleError, type PathSegment, type RuleError } from './rule-errors.js';
import type { CpiDefinitionDoc, RuleDefinitionDoc } from './schema.js';
import { fractionOf, percentOf } from './value-hints.js';

export const DEFAULT_POLICY: CompiledPolicy = { killSwitch: false, defaultTimeZone: 'UTC' };

/** An item and the file it is in. */
interface Located<T> {
  file: ParsedRuleFile;
  item: ParsedItem<T>;
}

export class Compilation implements Reporter {
  readonly errors: RuleError[] = [];
  readonly warnings: RuleError[] = [];
  /** The e-mail templates a rule may name: the shipped ones and the rules folder's. */
  templateNames: readonly string[] = defaultTemplateNames('email');
  /** The templates with offer texts (`--- title`) a rule may name in `offer.template`. */
  offerTemplateNames: readonly string[] = defaultTemplateNames('offer');
  /** The event types rules may name: the shipped library and the folder's declarations (compile.ts sets them). */
  eventTypes: EventTypeRegistry = BUILTIN_EVENT_TYPES;
  brokenEventTypes: ReadonlySet<string> = new Set();

  report(file: ParsedRuleFile, path: PathSegment[], name: ErrorName, args: unknown[], where: 'value' | 'key' = 'value'): RuleError {
    const e = ruleError(name, { file: file.file, ...file.locate[where](path), path }, ...args);
    this.errors.push(e);
    return e;
  }

  warn(file: ParsedRuleFile, path: PathSegment[], name: ErrorName, args: unknown[]): RuleError {
    const w = asWarning(ruleError(name, { file: file.file, ...file.locate.value(path), path }, ...args));
    this.warnings.push(w);
    return w;
  }

  position(file: ParsedRuleFile, path: PathSegment[]): SourcePosition {
    return { file: file.file, ...file.locate.value(path) };
  }

  /** First definition of each id wins; later ones are reported with the place of the first. */
  register<T>(
    kind: string,
    section: 'cpis' | 'rules',
    files: readonly ParsedRuleFile[],
    itemsOf: (f: ParsedRuleFile) => ParsedItem<T>[],
  ): Map<string, Located<T>> {
    const byId = new Map<string, Located<T>>();
    for (const file of files) {
      for (const item of itemsOf(file)) {
        if (item.id === undefined) continue;
        const first = byId.get(item.id);
        if (first) {
          const where = formatLocation({ file: first.file.file, ...first.file.locate.value([section, first.item.index, 'id']) });
          this.report(file, [section, item.index, 'id'], 'RULE_DUPLICATE_ID', [kind, item.id, where]);
        } else {
          byId.set(item.id, { file, item });
        }
      }
    }
    return byId;
  }

  // ----- items with schema errors: check what is valid in them, in the same run

  private hasErrorAt(file: ParsedRuleFile, path: PathSegment[]): boolean {
    const p = formatPath(path);
    return file.errors.some((e) => isWithinPath(e.path, p));
  }

  /**
   * The fields of an item that are valid on their own (defaults applied), for an item whose other
   * fields have errors: a rule with a misspelt field still gets its guardrails and CPI checked.
   */
  partial<T>(file: ParsedRuleFile, section: 'cpis' | 'rules', item: ParsedItem<T>, schema: z.ZodObject): Partial<T> {
    if (item.doc) return item.doc;
    const raw = item.raw;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
    const out: Record<string, unknown> = {};
    for (const [key, fieldSchema] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      if (this.hasErrorAt(file, [section, item.index, key])) continue;
      const parsed = fieldSchema.safeParse((raw as Record<string, unknown>)[key]);
      if (parsed.success && parsed.data !== undefined) out[key] = parsed.data;
    }
    return out as Partial<T>;
  }

  // ----- CPIs

  /** Checks what is present of a CPI; compiles it when it is complete and nothing is wrong. */
  compileCpi(file: ParsedRuleFile, index: number, doc: Partial<CpiDefinitionDoc>, complete: boolean): CompiledCpi | undefined {
    const base: PathSegment[] = ['cpis', index];
    const before = this.errors.length;
    if (doc.window !== undefined && doc.resolution !== undefined) {
      const windowMs = durationMs(doc.window);
      const resolutionMs = durationMs(doc.resolution);
      if (windowMs === 0 || resolutionMs === 0 || windowMs % resolutionMs !== 0) {
        this.report(file, [...base, 'window'], 'RULE_WINDOW_RESOLUTION', [doc.window, doc.resolution]);
      }
    }
    const measure = doc.measure === undefined ? undefined : this.measure(file, base, doc.measure, doc.groupBy);
    if (doc.customers !== undefined) this.customers(file, base, doc.id ?? `CPI ${index + 1}`, doc.customers, measure);

    if (!complete || this.errors.length > before || !measure) return undefined;
    const full = doc as CpiDefinitionDoc;
    return {
      id: full.id,
      ...(full.description === undefined ? {} : { description: full.description }),
      ...(full.unit === undefined ? {} : { unit: full.unit }),
      measure,
      groupBy: full.groupBy,
      windowMs: durationMs(full.window),
      resolutionMs: durationMs(full.resolution),
      latenessMs: durationMs(full.allowedLateness),
      ...(full.customers === undefined ? {} : { customers: full.customers }),
      position: this.position(file, base),
    };
  }

  /**
   * `customers`: fields of the customer's facts, and a customer on the events it checks. A duration
   * checks the halves that name one (an end without its customer follows its start); a value or
   * ratio event without a customer could never be checked.
   */
  private customers(file: ParsedRuleFile, base: PathSegment[], id: string, predicate: Predicate, measure: CpiMeasure | undefined): void {
    new EventChecks(this, file, base).predicate(CUSTOMER_FACTS_EVENT, ['customers'], predicate, 'customer facts');
    if (!measure) return;
    const types = measure.kind === 'value' ? [measure.event] : measure.kind === 'ratio' ? [measure.numerator.event, measure.denominator.event] : [measure.start.event, measure.end.event];
    const without = [...new Set(types)].filter((t) => this.eventTypes.get(t)?.customerField === undefined && this.eventTypes.has(t));
    if (without.length === 0 || (measure.kind === 'duration' && without.length < new Set(types).size)) return;
    this.report(file, [...base, 'customers'], 'RULE_CPI_CUSTOMERS', [id, `event type ${without.join(' and ')} names no customer (no field with role: customer), so no event of it could be checked; declare the field (docs/events.md, "Declaring event types") or remove customers`], 'key');
  }

  /** Event types and fields of a measure (and of groupBy, read from every event the CPI counts). */
  private measure(file: ParsedRuleFile, base: PathSegment[], m: CpiDefinitionDoc['measure'], groupBy: string | undefined): CpiMeasure {
    const events = new EventChecks(this, file, [...base, 'measure']);
    const groupByEvents: Array<string | undefined> = [];
    let measure: CpiMeasure;
    if ('duration' in m) {
      const d = m.duration;
      const p: PathSegment[] = ['duration'];
      const start = events.eventType([...p, 'start', 'event'], d.start.event);
      const end = events.eventType([...p, 'end', 'event'], d.end.event);
      events.field(start, [...p, 'start', 'correlate'], d.start.correlate);
      events.field(end, [...p, 'end', 'correlate'], d.end.correlate);
      events.predicate(start, [...p, 'start', 'where'], d.start.where);
      events.predicate(end, [...p, 'end', 'where'], d.end.where);
      if (d.relativeTo !== undefined) events.numericField(start, [...p, 'relativeTo'], d.relativeTo);
      groupByEvents.push(start, end);
      measure = {
        kind: 'duration',
        start: matcher(d.start.event, d.start.where, d.start.correlate),
        end: matcher(d.end.event, d.end.where, d.end.correlate),
        ...(d.relativeTo === undefined ? {} : { relativeTo: d.relativeTo }),
        ...(d.expectedFromScope === undefined ? {} : { expectedFromScope: d.expectedFromScope }),
        ...(d.defaultExpected === undefined ? {} : { defaultExpectedMs: durationMs(d.defaultExpected) }),
        maxPendingMs: durationMs(d.maxPending),
        unitMs: UNIT_MS[d.unit],
      };
    } else if ('value' in m) {
      const v = m.value;
      const type = events.eventType(['value', 'event'], v.event);
      events.numericField(type, ['value', 'field'], v.field);
      events.predicate(type, ['value', 'where'], v.where);
      groupByEvents.push(type);
      measure = { kind: 'value', event: v.event, field: v.field, ...(v.where === undefined ? {} : { where: v.where }) };
    } else {
      const r = m.ratio;
      const num = events.eventType(['ratio', 'numerator', 'event'], r.numerator.event);
      const den = events.eventType(['ratio', 'denominator', 'event'], r.denominator.event);
      events.predicate(num, ['ratio', 'numerator', 'where'], r.numerator.where);
      events.predicate(den, ['ratio', 'denominator', 'where'], r.denominator.where);
      groupByEvents.push(num, den);
      measure = { kind: 'ratio', numerator: matcher(r.numerator.event, r.numerator.where), denominator: matcher(r.denominator.event, r.denominator.where) };
    }
    if (groupBy !== undefined) {
      const groupByChecks = new EventChecks(this, file, base);
      for (const type of new Set(groupByEvents)) {
        if (type !== undefined && !groupByChecks.field(type, ['groupBy'], groupBy)) break; // once is enough
      }
    }
    return measure;
  }

  // ----- rules

  /** Checks what is present of a rule; compiles it when it is complete and nothing is wrong. */
  compileRule(
    file: ParsedRuleFile,
    index: number,
    doc: Partial<RuleDefinitionDoc>,
    complete: boolean,
    lookup: CpiLookup,
    cpiIds: readonly string[],
    raw?: unknown,
  ): CompiledRule | undefined {
    const base: PathSegment[] = ['rules', index];
    const at = (...p: PathSegment[]) => [...base, ...p];
    const before = this.errors.length;
    const name = doc.id === undefined ? `rule ${index + 1}` : `rule "${doc.id}"`;

    // Conditions: one form, known CPIs of one scope, aggregates, clear lines, trend periods
    const found = checkConditions(this, file, base, doc, raw, lookup, cpiIds);
    const cpi = found?.cpis[0];
    const cpiDoc = found?.docs[0];

    // A threshold written as a percentage ("5%"): the schema said "expected a number"; what number
    // depends on the CPI
    if (cpi) this.percentThresholds(file, base, raw, cpi, doc.aggregate);

    // Guardrails
    const g = doc.guardrails;
    if (g?.budget && g.budget.max === 0) {
      this.report(file, at('guardrails', 'budget', 'max'), 'RULE_GUARDRAIL_NEVER_ALLOWS', ['budget.max is 0, so no offer ever fits in the budget']);
    }
    if (g && g.holdoutPercent >= 100) {
      this.report(file, at('guardrails', 'holdoutPercent'), 'RULE_GUARDRAIL_NEVER_ALLOWS', ['holdoutPercent is 100, so every customer is held out']);
    }
    if (g?.quietHours && g.quietHours.from === g.quietHours.to) {
      // [from, to) with from == to is empty. Most likely "all day" was meant, which would be the
      // opposite, so neither reading is guessed: the rule is rejected.
      this.report(file, at('guardrails', 'quietHours', 'to'), 'RULE_SCHEMA', [
        `quietHours from and to are both "${g.quietHours.from}": an empty quiet period that never silences anything; set two different times or remove quietHours (to stop the rule altogether use killSwitch)`,
      ]);
    }
    if (g?.quietHours && g.quietHours.timeZone !== 'scope') this.timeZone(file, at('guardrails', 'quietHours', 'timeZone'), g.quietHours.timeZone);
    if (g?.killSwitch) this.warn(file, at('guardrails', 'killSwitch'), 'RULE_KILL_SWITCH_ON', [name]);

    // Filter on customer facts
    if (doc.filter) new EventChecks(this, file, base).predicate(CUSTOMER_FACTS_EVENT, ['filter'], doc.filter, 'customer facts');

    // Contributors counted only for some events: the fields must exist in an event type the CPI reads
    const contributorsWhere = doc.target && 'contributors' in doc.target ? doc.target.contributors.where : undefined;
    if (contributorsWhere && cpi) {
      const types = cpiEventTypes(cpi);
      const fits = types.find((t) => Object.keys(contributorsWhere).every((f) => 'schema' in lookupField(t, f, [], this.eventTypes)));
      new EventChecks(this, file, base).predicate(fits ?? types[0], ['target', 'contributors', 'where'], contributorsWhere);
    }

    // Texts the customer reads: nothing fills a placeholder, the customer would read the braces
    this.placeholders(file, base, doc);

    // Templates: one of the shipped ones or of the rules folder's templates/*.liquid, with an
    // e-mail (subject, text) for email.template and offer texts (title) for offer.template
    if (doc.email) this.templateName(file, at('email', 'template'), doc.email.template, 'e-mail', this.templateNames, this.offerTemplateNames);
    if (doc.offer?.template !== undefined) this.templateName(file, at('offer', 'template'), doc.offer.template, 'offer-text', this.offerTemplateNames, this.templateNames);

    // Checks that need the (first condition's) CPI
    if (cpi && cpiDoc) {
      if (doc.for !== undefined && durationMs(doc.for) > cpi.windowMs) this.report(file, at('for'), 'RULE_FOR_LONGER_THAN_WINDOW', [doc.for, cpiDoc.window]);
      if (doc.target && 'enRoute' in doc.target && cpi.groupBy !== 'storeId') {
        this.report(file, at('target', 'enRoute'), 'RULE_TARGET', ['enRoute', `it finds customers on their way to a store, so the CPI must have groupBy: storeId, but "${cpi.id}" is grouped by ${cpi.groupBy}`], 'key');
      }
      if (doc.target && 'scopeCustomer' in doc.target && cpi.groupBy !== 'customerId') {
        this.report(file, at('target', 'scopeCustomer'), 'RULE_TARGET', ['scopeCustomer', `the CPI must have groupBy: customerId, but "${cpi.id}" is grouped by ${cpi.groupBy}`], 'key');
      }
    }

    if (!complete || this.errors.length > before || !found) return undefined;
    return buildRule(doc as RuleDefinitionDoc, found.cpis, found.docs, this.position(file, base));
  }

  /** CPW502 for a template name that is none of `known` (`other`: the templates of the other use). */
  private templateName(file: ParsedRuleFile, path: PathSegment[], name: string, what: 'e-mail' | 'offer-text', known: readonly string[], other: readonly string[]): void {
    if (known.includes(name)) return;
    const e = this.report(file, path, 'EMAIL_TEMPLATE_UNKNOWN', [what, name]);
    const sections = what === 'e-mail' ? '"--- subject" and "--- text"' : '"--- title"';
    const suggestion = didYouMean(name, known);
    e.message += other.includes(name)
      ? ` (template "${name}" has no ${sections} section${what === 'e-mail' ? 's' : ''})`
      : suggestion
        ? ` (did you mean "${suggestion}"?)`
        : `; known ${what} templates: ${known.length > 0 ? known.join(', ') : 'none'} (a template of your own goes in templates/<name>.liquid beside the rules, with ${sections})`;
  }

  /** Each placeholder (`{{ first_name }}`) in a text the customer reads, where it is written. */
  private placeholders(file: ParsedRuleFile, base: PathSegment[], doc: Partial<RuleDefinitionDoc>): void {
    const texts: [PathSegment[], string | undefined, string][] = [
      [['offer', 'title'], doc.offer?.title, 'the offer title'],
      [['offer', 'terms'], doc.offer?.terms, 'the offer terms'],
      [['offer', 'redemption', 'instructions'], doc.offer?.redemption?.instructions, 'the redemption instructions'],
      [['email', 'subject'], doc.email?.subject, 'the e-mail subject'],
    ];
    const offer = doc.offer ? { code: doc.offer.code, title: doc.offer.title, kind: doc.offer.kind } : {};
    for (const [field, text, what] of texts) {
      if (text === undefined) continue;
      const found = findPlaceholders(text);
      if (found.length === 0) continue;
      const path = [...base, ...field];
      const suggestion = withoutPlaceholders(text, offer);
      const reported = new Set<string>();
      for (const p of found) {
        if (reported.has(p.text)) continue;
        reported.add(p.text);
        const greeting = namesTheCustomer(p) ? ' e-mails already open with "Hi <name>," from the customer\'s profile' : '';
        const hint = suggestion !== undefined
          ? ` (did you mean "${suggestion}"?${greeting})`
          : `; write the text without it${greeting ? ` (${greeting.trim()})` : ''}`;
        const template = field[0] === 'email'
          ? '; to fill it, write the subject in an e-mail template, templates/<name>.liquid (docs/rules.md, "Templates")'
          : field[1] === 'title' || field[1] === 'terms'
            ? `; to fill it, write the ${field[1]} in a template named by offer.template, templates/<name>.liquid with "--- ${field[1]}" (docs/rules.md, "Templates")`
            : '';
        this.errors.push(ruleError('RULE_TEXT_PLACEHOLDER', { file: file.file, ...file.locate.within(path, p.text), path }, JSON.stringify(p.text), what, hint + template));
      }
    }
  }

  /** Adds to the "expected a number" of `above: 5%` the number meant, as far as the CPI tells. */
  private percentThresholds(file: ParsedRuleFile, base: PathSegment[], raw: unknown, cpi: CompiledCpi, aggregate: string | undefined): void {
    const threshold = isRecord(raw) ? raw.threshold : undefined;
    if (!isRecord(threshold)) return;
    for (const key of ['above', 'below', 'clear']) {
      const percent = percentOf(threshold[key]);
      if (percent === undefined) continue;
      const path = formatPath([...base, 'threshold', key]);
      const error = this.errors.find((e) => e.file === file.file && e.path === path && e.code === ErrorCodes.RULE_SCHEMA.code);
      if (error) error.message += percentHint(percent, cpi, aggregate);
    }
  }

  // ----- policy

  compilePolicy(files: readonly ParsedRuleFile[]): CompiledPolicy {
    let first: ParsedRuleFile | undefined;
    let policy: CompiledPolicy = DEFAULT_POLICY;
    for (const file of files) {
      if (!file.policy) continue;
      if (first) {
        const where = formatLocation({ file: first.file, ...first.locate.key(['policy']) });
        this.report(file, ['policy'], 'RULE_POLICY_DUPLICATE', [where], 'key');
        continue;
      }
      first = file;
      const doc = file.policy.doc;
      if (!doc) continue;
      if (doc.frequencyCap && doc.frequencyCap.max === 0) {
        this.report(file, ['policy', 'frequencyCap', 'max'], 'RULE_GUARDRAIL_NEVER_ALLOWS', ['policy frequencyCap.max is 0, so no customer can receive any offer']);
      }
      if (doc.killSwitch) this.warn(file, ['policy', 'killSwitch'], 'RULE_KILL_SWITCH_ON', ['every rule']);
      this.timeZone(file, ['policy', 'defaultTimeZone'], doc.defaultTimeZone);
      policy = {
        ...(doc.customerCooldown === undefined ? {} : { customerCooldownMs: durationMs(doc.customerCooldown) }),
        ...(doc.frequencyCap === undefined ? {} : { frequencyCap: { max: doc.frequencyCap.max, perMs: durationMs(doc.frequencyCap.per) } }),
        killSwitch: doc.killSwitch,
        defaultTimeZone: doc.defaultTimeZone,
      };
    }
    return policy;
  }

  timeZone(file: ParsedRuleFile, path: PathSegment[], zone: string): void {
    if (isTimeZone(zone)) return;
    const suggestion = suggestTimeZone(zone);
    this.report(file, path, 'RULE_TIME_ZONE', [zone, suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`]);
  }
}

/** Which number a threshold written `above: 5%` stands for, by what the rule reads of the CPI. */
function percentHint(percent: number, cpi: CompiledCpi, aggregate: string | undefined): string {
  const m = cpi.measure;
  if (aggregate === 'count') return ` (the count of "${cpi.id}" is a number of events: write it without "%")`;
  if (m.kind === 'ratio') return ` (did you mean ${fractionOf(percent)}? the ratio of "${cpi.id}" is a share from 0 to 1)`;
  if (m.kind === 'duration' && m.relativeTo !== undefined) {
    const why = `samples of "${cpi.id}" are the actual duration over the expected one, 1 is as promised`;
    if (percent >= 100) return ` (did you mean ${fractionOf(percent)}? ${why})`;
    return ` (${why}: ${percent}% over the promise is ${fractionOf(100 + percent)}, ${percent}% of it ${fractionOf(percent)})`;
  }
  const unit = m.kind === 'duration'
    ? Object.entries(UNIT_MS).find(([, ms]) => ms === m.unitMs)?.[0]
    : cpi.unit;
  return ` (a threshold of "${cpi.id}" is a number in ${unit === undefined ? 'the CPI\'s unit' : `its unit, ${unit}`}, without "%")`;
}
