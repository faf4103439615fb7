/**
 * `cpiwatch lift --outcome <type> --horizon <duration> (--decisions <file> | --decisions-topic <t>)
 * (--events <file> | --topic <t>)`: per rule, the outcome rate of offered vs held-out customers with
 * confidence intervals and the customers needed (src/lift/, docs/rules.md "Measuring lift").
 */
import { writeFile } from 'node:fs/promises';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { kafkaRangeSource, resolveRanges, type RangeBound } from '../../backtest/kafka-source.js';
import { ndjsonSource, type EventBatches } from '../../backtest/ndjson-source.js';
import { loadSettings } from '../../config/settings.js';
import { BUILTIN_EVENT_TYPES } from '../../events/library.js';
import type { EventTypeRegistry } from '../../events/registry.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { renderLiftHtml } from '../../lift/html-report.js';
import { measureLift } from '../../lift/measure-lift.js';
import { formatReport, reportJson } from '../../lift/report.js';
import { createLogger } from '../../ops/logger.js';
import type { Predicate } from '../../rules/compiled.js';
import { didYouMean } from '../../rules/did-you-mean.js';
import { lookupField } from '../../rules/event-fields.js';
import { parseDuration } from '../../shared/duration.js';
import { boundOption } from '../event-input.js';
import { defineCommand, usageError } from '../flags.js';

/** `--where field=value`: the value a number, true/false, or else the text. */
export function whereOf(type: string, items: readonly string[], registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): Predicate | undefined {
  if (items.length === 0) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError(`--where must be field=value, got "${item}"`);
    const field = item.slice(0, eq).trim();
    const text = item.slice(eq + 1);
    const found = lookupField(type, field, [], registry);
    if ('missing' in found) {
      const near = didYouMean(found.missing, found.candidates);
      throw usageError(`--where: ${type} has no field "${field}"${near ? ` (did you mean ${near}?)` : ''}`);
    }
    out[field] = text === 'true' ? true : text === 'false' ? false : text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  }
  return out;
}

/** `--target-lift`: "5%" or "0.05" (5 percentage points), above 0 and below 1. */
export function targetLiftOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v > 0 && v < 1)) throw usageError(`--target-lift must be an absolute lift in (0, 1), as 0.05 or 5% (5 percentage points), got "${text}"`);
  return v;
}

export const liftCommand = defineCommand({
  name: 'lift',
  usage: [
    'cpiwatch lift --outcome <event type> --horizon <duration> --decisions <file.ndjson> --events <file.ndjson> [options]',
    'cpiwatch lift --outcome <event type> --horizon <duration> --decisions-topic <topic> --topic <topic> [--from <offset|time>] [--to <offset|time>] [options]',
  ],
  description: `Measures what a rule's offers did: for each rule, the customers offered against the customers of
its holdout group, and how many of each had an outcome event (e.g. order.placed) within the
horizon after their decision. Each customer counts once per rule, with their first decision;
customers suppressed by other guardrails are reported apart, in neither arm (with --treated
assigned, those suppressed after the holdout count as treated: intention to treat).

Output (stdout): per rule, each arm's rate with its 95% Wilson interval, the lift (difference in
percentage points) with its 95% Newcombe interval and whether it excludes 0, the relative lift,
the number needed to treat and the customers each arm needs for 80% power. Unreadable records are
counted and the first five listed. Customers appear only as counts.`,
  options: {
    outcome: { type: 'string', value: 'event type', required: true, description: 'the outcome event type, e.g. order.placed; matched to the decision by its data.customerId' },
    where: { type: 'string', value: 'field=value', multiple: true, description: 'only outcome events whose data field has this value (all must hold)' },
    horizon: { type: 'string', value: 'duration', required: true, description: 'how long after a decision an outcome counts, e.g. 7d or 2h30m' },
    decisions: { type: 'string', value: 'file.ndjson', description: 'decisions as NDJSON: decision and offer events (the decisions topic\'s records, or `cpiwatch backtest --decisions` output)' },
    'decisions-topic': { type: 'string', value: 'topic', description: 'read the decisions from this Kafka topic (read committed), e.g. cpiwatch.decisions' },
    events: { type: 'string', value: 'file.ndjson', description: 'the outcome events as NDJSON, one CloudEvent per line' },
    topic: { type: 'string', value: 'topic', description: 'read the outcome events from this Kafka topic, e.g. cpiwatch.events' },
    from: { type: 'string', value: 'offset|time', description: 'with --decisions-topic: first decision record, an offset or an RFC 3339 time (inclusive); a time also starts the events topic there' },
    to: { type: 'string', value: 'offset|time', description: 'with --decisions-topic: end of the decisions read (exclusive); the events topic is read to its current end' },
    treated: { type: 'string', choices: ['offered', 'assigned'], default: 'offered', description: 'the treated arm: the customers offered, or (assigned: intention to treat) every customer not held out, also those a later guardrail suppressed' },
    rules: { type: 'string', value: 'dir', description: 'the rules folder whose declared event types (eventTypes:) the outcome may be; default: the built-in types' },
    rule: { type: 'string', value: 'id', multiple: true, description: 'only these rules (default: every rule with decisions)' },
    'target-lift': { type: 'string', value: 'lift', description: 'also size the arms for this absolute lift, e.g. 5% (5 percentage points) or 0.05' },
    html: { type: 'string', value: 'file', description: 'also write the report as a self-contained HTML page' },
    json: { type: 'boolean', description: 'print the report as JSON instead of text' },
  },
  footer: 'Exit status: 0 done, 1 unreadable input (a missing file, Kafka unavailable), 2 usage error.',
}, async (values, _args, io) => {
  const outcome = values.outcome;
  // the event types of a rules folder (its declarations), else the built-in ones
  let registry: EventTypeRegistry = BUILTIN_EVENT_TYPES;
  if (values.rules) {
    const loaded = await loadRuleSet([values.rules]);
    if (!loaded.ok) {
      for (const e of loaded.errors) io.stderr(formatRuleError(e));
      return 1;
    }
    registry = loaded.ruleSet.eventTypes ?? BUILTIN_EVENT_TYPES;
  }
  if (!registry.has(outcome)) {
    const near = didYouMean(outcome, registry.names);
    const declare = values.rules ? '' : '; a type your rules folder declares needs --rules <dir>';
    throw usageError(`--outcome: unknown event type "${outcome}"${near ? ` (did you mean ${near}?)` : declare}`);
  }
  if (registry.get(outcome)?.customerField === undefined) throw usageError(`--outcome: ${outcome} events name no customer (no field with role: customer), so they cannot be matched to a customer`);
  const horizonMs = parseDuration(values.horizon);
  if (horizonMs === undefined || horizonMs <= 0) throw usageError(`--horizon must be a duration such as 7d, 12h or 1h30m, got "${values.horizon}"`);
  const where = whereOf(outcome, values.where, registry);
  const targetLift = targetLiftOf(values['target-lift']);
  if (!values.decisions === !values['decisions-topic']) throw usageError('give exactly one of --decisions and --decisions-topic');
  if (!values.events === !values.topic) throw usageError('give exactly one of --events and --topic');
  if (values.decisions && (values.from !== undefined || values.to !== undefined)) throw usageError('--from and --to apply to --decisions-topic only');
  const from = boundOption('from', values.from);
  const to = boundOption('to', values.to);

  let decisions: EventBatches;
  let events: EventBatches;
  try {
    const kafka = values['decisions-topic'] || values.topic ? createKafka(loadSettings(process.env), createLogger('warn')) : undefined;
    const topicSource = async (topic: string, start?: RangeBound, end?: RangeBound) => {
      const ranges = await resolveRanges(kafka!, topic, start, end);
      io.stderr(`reading ${topic}: ${ranges.map((r) => `partition ${r.partition} ${r.end > r.start ? `offsets ${r.start}..${r.end - 1}` : 'nothing in range'}`).join(', ')}`);
      return kafkaRangeSource(kafka!, topic, ranges);
    };
    decisions = values.decisions ? await ndjsonSource(values.decisions, 1000) : await topicSource(values['decisions-topic']!, from, to);
    events = values.events ? await ndjsonSource(values.events, 1000) : await topicSource(values.topic!, from && 'time' in from ? from : undefined);
  } catch (err) {
    io.stderr(`cpiwatch lift: cannot read ${values.decisions ?? values['decisions-topic']} or ${values.events ?? values.topic}: ${(err as Error).message}`);
    return 1;
  }
  let report;
  try {
    report = await measureLift({
      decisions: { label: values.decisions ?? values['decisions-topic']!, source: decisions },
      events: { label: values.events ?? values.topic!, source: events },
      outcome: { type: outcome, ...(where ? { where } : {}), eventTypes: registry },
      horizonMs,
      treated: values.treated,
      rules: values.rule,
      ...(targetLift !== undefined ? { targetLift } : {}),
    });
  } catch (err) {
    io.stderr(`cpiwatch lift: ${(err as Error).message}`);
    return 1;
  }
  io.stdout(values.json ? reportJson(report) : formatReport(report));
  if (values.html) {
    await writeFile(values.html, renderLiftHtml(report, `cpiwatch lift: ${report.outcome.type} within ${values.horizon}`));
    io.stderr(`HTML report: ${values.html}`);
  }
  return 0;
});
