/**
 * Rule unit test files (`*.test.yaml`), in the spirit of Prometheus' `promtool test rules`:
 *
 *   ruleFiles: [curbside.yaml, policy.yaml]      # relative to this file
 *   start: 2026-11-23T18:00:00Z                  # "+5m" times count from here
 *   tests:
 *     - name: a slow store comps a drink to a gold customer on the way
 *       events:
 *         - { type: customer.en-route, time: +4m, data: { customerId: c1, storeId: S1, etaSeconds: 1500 } }
 *         - type: curbside.arrived
 *           time: +1m
 *           repeat: { count: 10, every: 30s }  # {n} in texts becomes 1..10
 *           data: { orderId: "o{n}", storeId: S1, customerId: "w{n}", promisedWaitSeconds: 300 }
 *       expect:
 *         offers:     [{ rule: curbside-flash-drink, customer: c1 }]   # title: "..." checks the published title too
 *         suppressed: [{ rule: curbside-flash-drink, customer: c2, reason: holdout }]
 *
 * Parsing is strict (unknown fields are errors with "did you mean"), every problem is reported as
 * `file:line:col`, and every input event is checked against the event schemas before anything runs.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { decodeEvent } from '../events/decode.js';
import { formatRfc3339, parseRfc3339 } from '../events/rfc3339.js';
import { ErrorCodes } from '../errors/codes.js';
import type { RawMessage } from '../pipeline/types.js';
import { Duration } from '../rules/schema.js';
import { parseDuration } from '../shared/duration.js';
import { parseYaml, type ParsedYaml } from '../rules/parse-yaml.js';
import type { RuleError } from '../rules/rule-errors.js';
import { validateYaml } from '../rules/schema-issues.js';
import type { Position } from '../rules/yaml-positions.js';
import { SUPPRESSION_REASONS, type SuppressionReason } from '../guardrails/suppression.js';
import { didYouMean } from '../rules/did-you-mean.js';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import { EventTypeRegistry } from '../events/registry.js';

/** Start of virtual time when a file names none: a Monday, noon UTC. */
export const DEFAULT_START = '2026-01-05T12:00:00Z';

const Rfc3339 = z.string().refine((s) => typeof parseRfc3339(s) === 'number', { message: 'an RFC 3339 time such as 2026-11-23T18:00:00Z' });
const TimeSpec = z
  .string()
  .refine((s) => /^[+-]/.test(s) ? parseDuration(s.slice(1)) !== undefined : typeof parseRfc3339(s) === 'number', {
    message: 'an RFC 3339 time such as 2026-11-23T18:05:00Z, or an offset from the start such as "+5m" or "+1h30m"',
  });

const NumberCondition = z.strictObject({ gt: z.number().optional(), gte: z.number().optional(), lt: z.number().optional(), lte: z.number().optional() });

const InputEvent = z.strictObject({
  type: z.string().min(1),
  time: TimeSpec,
  data: z.record(z.string(), z.unknown()),
  id: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  traceparent: z.string().optional(),
  repeat: z.strictObject({ count: z.number().int().min(1).max(10_000), every: Duration }).optional(),
});

const Expected = z.strictObject({
  rule: z.string().min(1),
  customer: z.string().min(1),
  scope: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*=.+$/, { message: 'a scope such as storeId=S1' }).optional(),
  value: z.union([z.number(), NumberCondition]).optional(),
  time: TimeSpec.optional(),
  title: z.string().min(1).optional().describe("The offer's title as published (rendered from the rule's offer.template)"),
  repeat: z.strictObject({ count: z.number().int().min(1).max(10_000), every: Duration.optional() }).optional(),
});

const ExpectedSuppressed = Expected.omit({ title: true }).extend({ reason: z.enum(SUPPRESSION_REASONS) });

const TestCase = z.strictObject({
  name: z.string().min(1),
  start: Rfc3339.optional(),
  batchSize: z.number().int().min(1).optional(),
  order: z.enum(['time', 'as-written']).default('time'),
  events: z.array(InputEvent).min(1),
  expect: z.strictObject({
    offers: z.array(Expected).default([]),
    suppressed: z.array(ExpectedSuppressed).default([]),
  }),
});

export const TestFileSchema = z.strictObject({
  ruleFiles: z.array(z.string().min(1)).min(1),
  start: Rfc3339.optional(),
  batchSize: z.number().int().min(1).optional(),
  tests: z.array(TestCase).min(1),
});

export type ValueMatch = number | { gt?: number; gte?: number; lt?: number; lte?: number };

export interface Expectation {
  rule: string;
  customer: string;
  scope?: string;
  value?: ValueMatch;
  time?: number;
  /** The offer's title as published ({n} replaced in a repeat). */
  title?: string;
  reason?: SuppressionReason;
  /** Where it is written, for messages. */
  at: Position;
}

export interface TestInput {
  name: string;
  /** Virtual start time ("+5m" counts from here). */
  start: number;
  batchSize: number;
  messages: RawMessage[];
  /** Position of each message's event in the file (same index as messages). */
  positions: Position[];
  offers: Expectation[];
  suppressed: Expectation[];
  at: Position;
}

export interface TestFile {
  file: string;
  /** Rule files, resolved against the test file's folder. */
  ruleFiles: string[];
  /** Rule files as written (for messages). */
  ruleFilesAsWritten: string[];
  tests: TestInput[];
  /** Positions of expectations' rule ids, checked once the rules are loaded. */
  ruleRefs: { rule: string; at: Position; path: string }[];
}

export type LoadedTestFile = { ok: true; testFile: TestFile } | { ok: false; errors: RuleError[] };

export const TEST_SOURCE = 'urn:cpiwatch:rule-test';

/** Replaces {n} in every text of a value (repeat expansion). */
function substitute(value: unknown, n: number): unknown {
  if (typeof value === 'string') return value.replaceAll('{n}', String(n));
  if (Array.isArray(value)) return value.map((v) => substitute(v, n));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, n)]));
  return value;
}

function timeOf(spec: string, start: number): number {
  if (spec.startsWith('+')) return start + parseDuration(spec.slice(1))!;
  if (spec.startsWith('-')) return start - parseDuration(spec.slice(1))!;
  return parseRfc3339(spec) as number;
}

/**
 * Reads and checks a test file. `typesOf` gives the event types its input events are decoded with,
 * from the rule files it names (so events of a type the rules declare are valid): an error list
 * instead stops there. Without it, the built-in types.
 */
export async function loadTestFile(
  file: string,
  typesOf?: (ruleFiles: string[]) => Promise<EventTypeRegistry | { errors: RuleError[] }>,
): Promise<LoadedTestFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ file, line: 0, col: 0, path: '', code: ErrorCodes.RULE_FILE_UNREADABLE.code, message: `cannot read rule test file: ${(err as Error).message}` }] };
  }
  if (!typesOf) return parseTestFile(file, text);
  const ruleFiles = ruleFilesOf(file, text);
  if (ruleFiles === undefined) return parseTestFile(file, text);
  const types = await typesOf(ruleFiles);
  if (!(types instanceof EventTypeRegistry)) return { ok: false, errors: types.errors };
  return parseTestFile(file, text, types);
}

/** The rule files a test file names (relative to it), or undefined when the file is not valid. */
function ruleFilesOf(file: string, text: string): string[] | undefined {
  const source = parseYaml(file, text);
  const files = source.errors.length > 0 ? undefined : (source.data as { ruleFiles?: unknown } | null)?.ruleFiles;
  if (!Array.isArray(files) || !files.every((f): f is string => typeof f === 'string' && f.length > 0) || files.length === 0) return undefined;
  return files.map((r) => join(dirname(file), r));
}

/** Parses and checks a test file's text, its input events decoded with `eventTypes`. Pure: rule files are only named, not read. */
export function parseTestFile(file: string, text: string, eventTypes: EventTypeRegistry = BUILTIN_EVENT_TYPES): LoadedTestFile {
  const source = parseYaml(file, text);
  if (source.errors.length > 0) return { ok: false, errors: source.errors };
  const checked = validateYaml(source, TestFileSchema);
  if (!checked.ok) return { ok: false, errors: [...checked.errors, ...checkRawEvents(source, eventTypes)] };
  const doc = checked.value;
  const errors: RuleError[] = [];
  const fileStart = parseRfc3339(doc.start ?? DEFAULT_START) as number;
  const ruleRefs: TestFile['ruleRefs'] = [];

  const tests = doc.tests.map((t, ti): TestInput => {
    const start = t.start !== undefined ? (parseRfc3339(t.start) as number) : fileStart;
    const messages: RawMessage[] = [];
    const positions: Position[] = [];
    const built: { message: RawMessage; time: number; at: Position }[] = [];
    t.events.forEach((e, ei) => {
      const b = buildEvent(source, e, ti, ei, start, 0, eventTypes);
      errors.push(...b.errors);
      b.messages.forEach((m, i) => built.push({ message: m, time: b.times[i]!, at: source.locate.value(['tests', ti, 'events', ei]) }));
    });
    // time order by default (stable: equal times keep the written order); as-written for late events
    if (t.order === 'time') built.sort((a, b) => a.time - b.time);
    for (const b of built) {
      messages.push({ ...b.message, origin: { ...b.message.origin, offset: messages.length } });
      positions.push(b.at);
    }
    const expectations = (kind: 'offers' | 'suppressed') =>
      (t.expect[kind] as (z.output<typeof Expected> & { reason?: SuppressionReason })[]).flatMap((x, xi): Expectation[] => {
        const at = source.locate.value(['tests', ti, 'expect', kind, xi]);
        ruleRefs.push({ rule: x.rule, at: source.locate.value(['tests', ti, 'expect', kind, xi, 'rule']), path: `tests[${ti}].expect.${kind}[${xi}].rule` });
        const every = x.repeat?.every !== undefined ? parseDuration(x.repeat.every)! : 0;
        return Array.from({ length: x.repeat?.count ?? 1 }, (_, i) => ({
          rule: x.rule,
          customer: String(substitute(x.customer, i + 1)),
          ...(x.scope !== undefined ? { scope: String(substitute(x.scope, i + 1)) } : {}),
          ...(x.value !== undefined ? { value: x.value } : {}),
          ...(x.time !== undefined ? { time: timeOf(x.time, start) + i * every } : {}),
          ...(x.title !== undefined ? { title: String(substitute(x.title, i + 1)) } : {}),
          ...(x.reason !== undefined ? { reason: x.reason } : {}),
          at,
        }));
      });
    return {
      name: t.name,
      start,
      batchSize: t.batchSize ?? doc.batchSize ?? 1,
      messages,
      positions,
      offers: expectations('offers'),
      suppressed: expectations('suppressed'),
      at: source.locate.value(['tests', ti]),
    };
  });

  const names = new Map<string, number>();
  doc.tests.forEach((t, ti) => {
    const first = names.get(t.name);
    if (first !== undefined) {
      errors.push({ file, ...source.locate.value(['tests', ti, 'name']), path: `tests[${ti}].name`, code: ErrorCodes.RULE_DUPLICATE_ID.code, message: `duplicate test name "${t.name}" (first used by tests[${first}])` });
    } else names.set(t.name, ti);
  });
  if (errors.length > 0) return { ok: false, errors };
  const dir = dirname(file);
  return { ok: true, testFile: { file, ruleFiles: doc.ruleFiles.map((r) => join(dir, r)), ruleFilesAsWritten: doc.ruleFiles, tests, ruleRefs } };
}

/** The messages of one input event (several with repeat), each checked by the event decoder. */
function buildEvent(source: ParsedYaml, e: z.output<typeof InputEvent>, ti: number, ei: number, start: number, offset: number, eventTypes: EventTypeRegistry): { messages: RawMessage[]; times: number[]; errors: RuleError[] } {
  const messages: RawMessage[] = [];
  const times: number[] = [];
  const errors: RuleError[] = [];
  const count = e.repeat?.count ?? 1;
  const every = e.repeat ? parseDuration(e.repeat.every)! : 0;
  for (let n = 1; n <= count; n++) {
    const time = timeOf(e.time, start) + (n - 1) * every;
    const wire: Record<string, unknown> = {
      specversion: '1.0',
      id: e.id !== undefined ? String(substitute(e.id, n)) : `t${ti + 1}-e${ei + 1}${count > 1 ? `-${n}` : ''}`,
      source: e.source ?? TEST_SOURCE,
      type: e.type,
      time: formatRfc3339(time),
      ...(e.subject !== undefined ? { subject: e.subject } : {}),
      ...(e.traceparent !== undefined ? { traceparent: e.traceparent } : {}),
      data: substitute(e.data, n),
    };
    const value = Buffer.from(JSON.stringify(wire));
    const decoded = decodeEvent({ value }, { maxBytes: 1_048_576 }, eventTypes);
    if (!decoded.ok) {
      const field = decoded.code === ErrorCodes.EVENT_UNKNOWN_TYPE.code ? 'type' : decoded.code === ErrorCodes.EVENT_DATA_INVALID.code ? 'data' : 'time';
      const path = ['tests', ti, 'events', ei, field];
      let reason = decoded.reason;
      if (field === 'type') {
        const s = didYouMean(e.type, eventTypes.names);
        if (s) reason = `unknown event type "${e.type}" (did you mean "${s}"?)`;
      }
      errors.push({ file: source.file, ...source.locate.value(path), path: `tests[${ti}].events[${ei}].${field}`, code: decoded.code, message: `input event${count > 1 ? ` (repeat ${n})` : ''} is not valid: ${reason}` });
      break;
    }
    messages.push({ value, origin: { topic: 'test', partition: 0, offset: offset + messages.length } });
    times.push(time);
  }
  return { messages, times, errors };
}

/** When the file has schema errors: the event errors of every event that is itself well-formed. */
function checkRawEvents(source: ParsedYaml, eventTypes: EventTypeRegistry): RuleError[] {
  const data = source.data as { start?: unknown; tests?: unknown } | undefined;
  if (!data || !Array.isArray(data.tests)) return [];
  const fileStart = typeof data.start === 'string' && typeof parseRfc3339(data.start) === 'number' ? (parseRfc3339(data.start) as number) : (parseRfc3339(DEFAULT_START) as number);
  const errors: RuleError[] = [];
  data.tests.forEach((t: unknown, ti) => {
    const test = t as { start?: unknown; events?: unknown } | null;
    if (!test || !Array.isArray(test.events)) return;
    const start = typeof test.start === 'string' && typeof parseRfc3339(test.start) === 'number' ? (parseRfc3339(test.start) as number) : fileStart;
    test.events.forEach((raw: unknown, ei) => {
      const e = InputEvent.safeParse(raw);
      if (e.success) errors.push(...buildEvent(source, e.data, ti, ei, start, 0, eventTypes).errors);
    });
  });
  return errors;
}

export function valueMatches(actual: number, expected: ValueMatch): boolean {
  if (typeof expected === 'number') return Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
  return (expected.gt === undefined || actual > expected.gt) && (expected.gte === undefined || actual >= expected.gte)
    && (expected.lt === undefined || actual < expected.lt) && (expected.lte === undefined || actual <= expected.lte);
}
