/**
 * From validated rule documents to the RuleSet the engine runs: cross-checks that need more than one
 * field or more than one file (unknown CPIs and event types, duplicate ids, window arithmetic,
 * hysteresis, guardrails that can never allow an offer, ...), then the compiled form with durations
 * in milliseconds and a content hash per rule.
 *
 * Pure: no I/O. load.ts turns files into ParsedRuleFiles; this module never sees YAML.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TEMPLATE_NAMES } from '../actions/email/templates.js';
import { EventTypes, isKnownEventType, EVENT_TYPE_NAMES } from '../events/event-types.js';
import type { ErrorName } from '../errors/codes.js';
import type {
  CompiledCpi,
  CompiledGuardrails,
  CompiledOffer,
  CompiledPolicy,
  CompiledRule,
  CpiMeasure,
  RuleSet,
  RuleTarget,
  SourcePosition,
} from './compiled.js';
import { parseDuration } from './duration.js';
import { didYouMean, suggestionSuffix } from './did-you-mean.js';
import {
  asWarning,
  describeValue,
  formatLocation,
  formatPath,
  isWithinPath,
  ruleError,
  sortRuleErrors,
  type PathSegment,
  type RuleError,
} from './rule-errors.js';
import type { ParsedItem, ParsedRuleFile, RuleSetResult } from './parsed-rule-file.js';
import { CpiDefinition, RuleDefinition, type ConditionDoc, type CpiDefinitionDoc, type PolicyDoc, type PredicateDoc, type RuleDefinitionDoc } from './schema.js';

export const DEFAULT_POLICY: CompiledPolicy = { killSwitch: false, defaultTimeZone: 'UTC' };

/** The event type whose data holds a customer's facts, which rule filters test. */
export const CUSTOMER_FACTS_EVENT = 'customer.profile';

/** The event types a CPI reads, in the order its measure names them. */
function cpiEventTypes(cpi: CompiledCpi): string[] {
  const m = cpi.measure;
  const types = m.kind === 'value' ? [m.event] : m.kind === 'ratio' ? [m.numerator.event, m.denominator.event] : [m.end.event, m.start.event];
  return [...new Set(types)];
}
/** Fields of the profile that are the key, not facts: a filter on them could never match. */
const NOT_FACTS = ['customerId'];

const UNIT_MS = { seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

// ---------------------------------------------------------------------------------------------
// Hashing

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = norm(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(value));
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * The version of a rule: a hash of the rule and of the CPI it watches, after defaults are applied.
 * Key order, comments, quoting and whitespace do not change it; any edit of a value does, and so
 * does spelling out a default differently ("60s" instead of "1m").
 */
export function ruleVersion(rule: RuleDefinitionDoc, cpi: CpiDefinitionDoc): string {
  return shortHash(canonicalJson({ rule, cpi }));
}

/** The version of a rule set: a hash of every rule's id and version (sorted) and of the policy. */
export function ruleSetVersion(rules: readonly Pick<CompiledRule, 'id' | 'version'>[], policy: CompiledPolicy): string {
  const versions = rules.map((r) => `${r.id}@${r.version}`).sort();
  return shortHash(canonicalJson({ rules: versions, policy }));
}

// ---------------------------------------------------------------------------------------------
// Compile

interface Located<T> {
  file: ParsedRuleFile;
  item: ParsedItem<T>;
}

/** Cross-checks parsed files and, when nothing is wrong, builds the RuleSet. */
export function compileParsedFiles(files: readonly ParsedRuleFile[]): RuleSetResult {
  const c = new Compilation();
  for (const f of files) c.errors.push(...f.errors);

  // Ids first (across files), so references can be checked against every file.
  const cpiById = c.register('CPI', 'cpis', files, (f) => f.cpis);
  const ruleById = c.register('rule', 'rules', files, (f) => f.rules);

  const compiledCpis = new Map<string, CompiledCpi>();
  for (const [id, { file, item }] of cpiById) {
    const cpi = c.compileCpi(file, item.index, c.partial(file, 'cpis', item, CpiDefinition), item.doc !== undefined);
    if (cpi) compiledCpis.set(id, cpi);
  }

  const cpiIds = [...cpiById.keys()];
  const compiledRules: CompiledRule[] = [];
  for (const { file, item } of ruleById.values()) {
    const doc = c.partial(file, 'rules', item, RuleDefinition);
    const cpiEntry = doc.cpi === undefined ? undefined : cpiById.get(doc.cpi);
    const cpi = doc.cpi === undefined ? undefined : compiledCpis.get(doc.cpi);
    const rule = c.compileRule(file, item.index, doc, item.doc !== undefined, cpiEntry, cpi, cpiIds);
    if (rule) compiledRules.push(rule);
  }

  const policy = c.compilePolicy(files);
  const warnings = sortRuleErrors(c.warnings);
  const fileNames = files.map((f) => f.file);
  if (c.errors.length > 0) return { ok: false, errors: sortRuleErrors(c.errors), files: fileNames, warnings };
  return {
    ok: true,
    ruleSet: { cpis: compiledCpis, rules: compiledRules, policy, version: ruleSetVersion(compiledRules, policy) },
    files: fileNames,
    warnings,
  };
}

class Compilation {
  readonly errors: RuleError[] = [];
  readonly warnings: RuleError[] = [];

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
    const ms = (d: string) => parseDuration(d) ?? 0;
    if (doc.window !== undefined && doc.resolution !== undefined) {
      const windowMs = ms(doc.window);
      const resolutionMs = ms(doc.resolution);
      if (windowMs === 0 || resolutionMs === 0 || windowMs % resolutionMs !== 0) {
        this.report(file, [...base, 'window'], 'RULE_WINDOW_RESOLUTION', [doc.window, doc.resolution]);
      }
    }
    const measure = doc.measure === undefined ? undefined : this.measure(file, base, doc.measure, doc.groupBy);

    if (!complete || this.errors.length > before || !measure) return undefined;
    const full = doc as CpiDefinitionDoc;
    return {
      id: full.id,
      ...(full.description === undefined ? {} : { description: full.description }),
      ...(full.unit === undefined ? {} : { unit: full.unit }),
      measure,
      groupBy: full.groupBy,
      windowMs: ms(full.window),
      resolutionMs: ms(full.resolution),
      latenessMs: ms(full.allowedLateness),
      position: this.position(file, base),
    };
  }

  /** Event types and fields of a measure (and of groupBy, read from every event the CPI counts). */
  private measure(file: ParsedRuleFile, base: PathSegment[], m: CpiDefinitionDoc['measure'], groupBy: string | undefined): CpiMeasure {
    const ms = (d: string) => parseDuration(d) ?? 0;
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
        ...(d.defaultExpected === undefined ? {} : { defaultExpectedMs: ms(d.defaultExpected) }),
        maxPendingMs: ms(d.maxPending),
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
    cpiEntry: Located<CpiDefinitionDoc> | undefined,
    cpi: CompiledCpi | undefined,
    cpiIds: readonly string[],
  ): CompiledRule | undefined {
    const base: PathSegment[] = ['rules', index];
    const at = (...p: PathSegment[]) => [...base, ...p];
    const before = this.errors.length;
    const ms = (d: string) => parseDuration(d) ?? 0;
    const name = doc.id === undefined ? `rule ${index + 1}` : `rule "${doc.id}"`;

    if (doc.cpi !== undefined && !cpiEntry) this.report(file, at('cpi'), 'RULE_UNKNOWN_CPI', [doc.cpi, suggestionSuffix(doc.cpi, cpiIds)]);

    // Threshold and hysteresis
    if (doc.threshold) {
      const t = doc.threshold;
      const direction = 'above' in t ? 'above' : 'below';
      const threshold = 'above' in t ? t.above : t.below;
      const clear = t.clear ?? threshold;
      if (direction === 'above' ? clear > threshold : clear < threshold) {
        const why = direction === 'above' ? `for "above", clear must be at most ${threshold}` : `for "below", clear must be at least ${threshold}`;
        this.report(file, at('threshold', 'clear'), 'RULE_CLEAR_WRONG_SIDE', [clear, threshold, why]);
      }
    }

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
      const fits = types.find((t) => Object.keys(contributorsWhere).every((f) => 'schema' in lookupField(t, f)));
      new EventChecks(this, file, base).predicate(fits ?? types[0], ['target', 'contributors', 'where'], contributorsWhere);
    }

    // E-mail template: an unknown one falls back to the generic template, so this only warns.
    if (doc.email && !TEMPLATE_NAMES.includes(doc.email.template)) {
      const w = this.warn(file, at('email', 'template'), 'EMAIL_TEMPLATE_UNKNOWN', [doc.email.template]);
      const suggestion = didYouMean(doc.email.template, TEMPLATE_NAMES);
      w.message += suggestion
        ? ` (did you mean "${suggestion}"?); the generic-offer template will be used`
        : `; known templates: ${TEMPLATE_NAMES.join(', ')}; the generic-offer template will be used`;
    }

    // Checks that need the CPI
    const cpiDoc = cpiEntry?.item.doc;
    if (cpi && cpiDoc) {
      const kind = cpi.measure.kind;
      if (kind === 'ratio' && doc.aggregate !== undefined && doc.aggregate !== 'ratio' && doc.aggregate !== 'count') {
        this.report(file, at('aggregate'), 'RULE_AGGREGATE_KIND', [doc.aggregate, 'ratio', ` ("${cpi.id}"); use ratio for the share of matching events, or count`]);
      } else if (kind !== 'ratio' && doc.aggregate === 'ratio') {
        this.report(file, at('aggregate'), 'RULE_AGGREGATE_KIND', ['ratio', kind, ` ("${cpi.id}"); ratio needs a ratio CPI, here use count, sum, avg, min, max or a percentile`]);
      }
      if (doc.for !== undefined && ms(doc.for) > cpi.windowMs) this.report(file, at('for'), 'RULE_FOR_LONGER_THAN_WINDOW', [doc.for, cpiDoc.window]);
      if (doc.target && 'enRoute' in doc.target && cpi.groupBy !== 'storeId') {
        this.report(file, at('target', 'enRoute'), 'RULE_TARGET', ['enRoute', `it finds customers on their way to a store, so the CPI must have groupBy: storeId, but "${cpi.id}" is grouped by ${cpi.groupBy}`], 'key');
      }
      if (doc.target && 'scopeCustomer' in doc.target && cpi.groupBy !== 'customerId') {
        this.report(file, at('target', 'scopeCustomer'), 'RULE_TARGET', ['scopeCustomer', `the CPI must have groupBy: customerId, but "${cpi.id}" is grouped by ${cpi.groupBy}`], 'key');
      }
    }

    if (!complete || this.errors.length > before || !cpi || !cpiDoc) return undefined;
    return buildRule(doc as RuleDefinitionDoc, cpi, cpiDoc, this.position(file, base));
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
      const ms = (d: string) => parseDuration(d) ?? 0;
      policy = {
        ...(doc.customerCooldown === undefined ? {} : { customerCooldownMs: ms(doc.customerCooldown) }),
        ...(doc.frequencyCap === undefined ? {} : { frequencyCap: { max: doc.frequencyCap.max, perMs: ms(doc.frequencyCap.per) } }),
        killSwitch: doc.killSwitch,
        defaultTimeZone: doc.defaultTimeZone,
      };
    }
    return policy;
  }

  timeZone(file: ParsedRuleFile, path: PathSegment[], zone: string): void {
    if (isTimeZone(zone)) return;
    this.report(file, path, 'RULE_TIME_ZONE', [zone, suggestionSuffix(zone, timeZones())]);
  }
}

/** The compiled form of a valid rule whose CPI compiled. */
function buildRule(doc: RuleDefinitionDoc, cpi: CompiledCpi, cpiDoc: CpiDefinitionDoc, position: SourcePosition): CompiledRule {
  const ms = (d: string) => parseDuration(d) ?? 0;
  const t = doc.threshold;
  const threshold = 'above' in t ? t.above : t.below;
  const target: RuleTarget = 'enRoute' in doc.target
    ? { kind: 'enRoute', withinMs: ms(doc.target.enRoute.within) }
    : 'contributors' in doc.target
      ? {
          kind: 'contributors',
          withinMs: doc.target.contributors.within === undefined ? cpi.windowMs : ms(doc.target.contributors.within),
          ...(doc.target.contributors.where ? { where: doc.target.contributors.where } : {}),
          audience: doc.target.contributors.where ? `${cpi.id}.${doc.id}` : cpi.id,
        }
      : { kind: 'scopeCustomer' };

  const g = doc.guardrails;
  const guardrails: CompiledGuardrails = {
    ...(g.cooldown === undefined ? {} : { cooldownMs: ms(g.cooldown) }),
    ...(g.budget === undefined ? {} : { budget: { max: g.budget.max, perMs: ms(g.budget.per) } }),
    ...(g.quietHours === undefined
      ? {}
      : { quietHours: { fromMinute: minuteOfDay(g.quietHours.from), toMinute: minuteOfDay(g.quietHours.to), timeZone: g.quietHours.timeZone } }),
    holdoutPercent: g.holdoutPercent,
    killSwitch: g.killSwitch,
  };

  const o = doc.offer;
  const offer: CompiledOffer = {
    kind: o.kind,
    code: o.code,
    title: o.title,
    ...(o.terms === undefined ? {} : { terms: o.terms }),
    expiresAfterMs: ms(o.expiresAfter),
    ...(o.redemption === undefined
      ? {}
      : { redemption: { channel: o.redemption.channel, ...(o.redemption.instructions === undefined ? {} : { instructions: o.redemption.instructions }) } }),
  };

  return {
    id: doc.id,
    version: ruleVersion(doc, cpiDoc),
    ...(doc.description === undefined ? {} : { description: doc.description }),
    cpi,
    aggregate: doc.aggregate,
    direction: 'above' in t ? 'above' : 'below',
    threshold,
    clear: t.clear ?? threshold,
    forMs: ms(doc.for),
    minSamples: doc.minSamples,
    target,
    ...(doc.filter === undefined ? {} : { filter: doc.filter }),
    guardrails,
    offer,
    ...(doc.email === undefined ? {} : { email: { template: doc.email.template, ...(doc.email.subject === undefined ? {} : { subject: doc.email.subject }) } }),
    position,
  };
}

function matcher(event: string, where: PredicateDoc | undefined): { event: string; where?: PredicateDoc };
function matcher(event: string, where: PredicateDoc | undefined, correlate: string): { event: string; where?: PredicateDoc; correlate: string };
function matcher(event: string, where: PredicateDoc | undefined, correlate?: string) {
  return { event, ...(where === undefined ? {} : { where }), ...(correlate === undefined ? {} : { correlate }) };
}

/** "21:30" -> 1290 */
export function minuteOfDay(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function isTimeZone(zone: string): boolean {
  // IANA names are short; ICU takes seconds to refuse a 200 kB one
  if (zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

let zoneList: string[] | undefined;
function timeZones(): string[] {
  zoneList ??= ['UTC', ...Intl.supportedValuesOf('timeZone')];
  return zoneList;
}

// ---------------------------------------------------------------------------------------------
// Event types and their data fields

type FieldLookup = { schema: z.ZodType } | { missing: string; candidates: string[] };

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

/** The schema of a dotted field path in an event type's data. */
function lookupField(type: string, dotted: string, excluded: readonly string[] = []): FieldLookup {
  let schema: z.ZodType = EventTypes[type as keyof typeof EventTypes];
  for (const [i, part] of dotted.split('.').entries()) {
    const s = unwrap(schema);
    const shape = { ...(s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : {}) };
    if (i === 0) for (const k of excluded) delete shape[k];
    const next = shape[part];
    if (!next) return { missing: part === dotted ? part : dotted, candidates: Object.keys(shape) };
    schema = next;
  }
  return { schema };
}

function describeFieldType(schema: z.ZodType): string {
  const s = unwrap(schema);
  if (s instanceof z.ZodNumber) return 'a number';
  if (s instanceof z.ZodString) return 'text';
  if (s instanceof z.ZodBoolean) return 'true or false';
  if (s instanceof z.ZodEnum) return `one of ${s.options.join(', ')}`;
  if (s instanceof z.ZodObject) return 'a mapping';
  if (s instanceof z.ZodArray) return 'a list';
  return 'not a number';
}

/** Why `value` can never equal a value of this field, or undefined when it can. */
function valueMismatch(field: string, schema: z.ZodType, value: unknown): string | undefined {
  const s = unwrap(schema);
  const shown = describeValue(value);
  if (s instanceof z.ZodEnum) {
    const options = s.options.map(String);
    if (typeof value === 'string' && options.includes(value)) return undefined;
    const suffix = typeof value === 'string' ? suggestionSuffix(value, options) : '';
    return `${shown} is not one of ${options.join(', ')}${suffix}`;
  }
  if (s instanceof z.ZodNumber && typeof value !== 'number') return `${shown} is not a number, and ${field} is a number`;
  if (s instanceof z.ZodBoolean && typeof value !== 'boolean') return `${shown} is not true or false, and ${field} is true or false`;
  // Text fields may hold digits ("1234"), which the engine compares with numbers numerically.
  if (s instanceof z.ZodString && typeof value === 'boolean') {
    return `${shown} is not text, and ${field} is text (write it in quotes: "${String(value)}")`;
  }
  return undefined;
}

/** Checks of event types and fields named under one path prefix. */
class EventChecks {
  constructor(
    private readonly c: Compilation,
    private readonly file: ParsedRuleFile,
    private readonly base: PathSegment[],
  ) {}

  /** Returns the type when known, so field checks can follow; reports it otherwise. */
  eventType(path: PathSegment[], type: string): string | undefined {
    if (isKnownEventType(type)) return type;
    this.c.report(this.file, [...this.base, ...path], 'RULE_UNKNOWN_EVENT_TYPE', [type, suggestionSuffix(type, EVENT_TYPE_NAMES)]);
    return undefined;
  }

  field(type: string | undefined, path: PathSegment[], field: string): z.ZodType | undefined {
    if (type === undefined) return undefined;
    const found = lookupField(type, field);
    if ('schema' in found) return found.schema;
    const suffix = suggestionSuffix(found.missing, found.candidates);
    this.c.report(this.file, [...this.base, ...path], 'RULE_UNKNOWN_EVENT_FIELD', [type, field, suffix]);
    return undefined;
  }

  numericField(type: string | undefined, path: PathSegment[], field: string): void {
    const schema = this.field(type, path, field);
    if (schema && !(unwrap(schema) instanceof z.ZodNumber)) {
      this.c.report(this.file, [...this.base, ...path], 'RULE_FIELD_NOT_NUMERIC', [field, type, describeFieldType(schema)]);
    }
  }

  /** Field names of a `where` or `filter` exist, and each condition can match the field's values. */
  predicate(type: string | undefined, path: PathSegment[], predicate: PredicateDoc | undefined, what?: string): void {
    if (type === undefined || predicate === undefined) return;
    for (const [field, condition] of Object.entries(predicate)) {
      const fieldPath = [...path, field];
      const found = lookupField(type, field, what ? NOT_FACTS : []);
      if (!('schema' in found)) {
        const suffix = suggestionSuffix(found.missing, found.candidates);
        const e = ruleError('RULE_UNKNOWN_EVENT_FIELD', { file: this.file.file, ...this.file.locate.key([...this.base, ...fieldPath]), path: [...this.base, ...fieldPath] }, type, field, suffix);
        if (what) e.message = `${what} (event type ${type}) have no field "${field}"${suffix}`;
        this.c.errors.push(e);
        continue;
      }
      this.condition(found.schema, field, fieldPath, condition);
    }
  }

  private condition(schema: z.ZodType, field: string, path: PathSegment[], condition: ConditionDoc): void {
    const never = (p: PathSegment[], why: string) =>
      this.c.report(this.file, [...this.base, ...p], 'RULE_CONDITION_NEVER_MATCHES', [field, why]);
    if (typeof condition !== 'object' || condition === null) {
      const why = valueMismatch(field, schema, condition);
      if (why) never(path, why);
      return;
    }
    for (const op of ['equals', 'not'] as const) {
      const v = condition[op];
      if (v === undefined) continue;
      const why = valueMismatch(field, schema, v);
      if (why) never([...path, op], why);
    }
    for (const op of ['in', 'notIn'] as const) {
      condition[op]?.forEach((v, i) => {
        const why = valueMismatch(field, schema, v);
        if (why) never([...path, op, i], why);
      });
    }
    // Ranges compare numbers; text fields may hold digits, so only enums and booleans never match.
    const inner = unwrap(schema);
    const numeric = inner instanceof z.ZodNumber;
    const neverNumeric = inner instanceof z.ZodEnum || inner instanceof z.ZodBoolean || inner instanceof z.ZodObject || inner instanceof z.ZodArray;
    let low = Number.NEGATIVE_INFINITY;
    let lowOpen = false;
    let high = Number.POSITIVE_INFINITY;
    let highOpen = false;
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const v = condition[op];
      if (v === undefined) continue;
      if (neverNumeric) {
        never([...path, op], `${op} compares numbers, and ${field} is ${describeFieldType(schema)}`);
        continue;
      }
      if (!numeric) continue;
      if (op === 'gt' || op === 'gte') {
        if (v > low || (v === low && op === 'gt')) { low = v; lowOpen = op === 'gt'; }
      } else if (v < high || (v === high && op === 'lt')) {
        high = v;
        highOpen = op === 'lt';
      }
    }
    if (numeric && (low > high || (low === high && (lowOpen || highOpen)))) {
      never(path, `no number is ${lowOpen ? 'above' : 'at least'} ${low} and ${highOpen ? 'below' : 'at most'} ${high}`);
    }
  }
}

