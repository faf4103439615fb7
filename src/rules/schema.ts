/**
 * The rule language: the shape of a rule file, as zod schemas. Unknown fields are rejected everywhere
 * (strict objects). The JSON Schema for editors (schemas/rule-file.schema.json) is generated from here.
 * Cross-field checks (unknown CPI, window vs resolution, ...) live in cross-checks.ts.
 */
import { z } from 'zod';
import { EventTypeDeclaration } from '../events/declaration-schema.js';
import { DURATION_PATTERN } from '../shared/duration.js';
import { AGGREGATES } from '../windows/aggregate.js';

export const Duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), { message: 'a duration such as "90s", "15m", "2h" or "1h30m"' })
  .describe('A duration: digits followed by ms, s, m, h or d; parts may be combined ("1h30m").');

const Identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'an id made of lower-case letters, digits and dashes (at most 63 characters)' });

/** A dotted path into the event's data (or a customer's facts), e.g. "storeId" or "address.city". */
const FieldPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}$/, {
  message: 'a field name or dotted path such as "storeId" or "address.city"',
});

const Scalar = z.union([z.string().max(256), z.number(), z.boolean()]);

export const Condition = z.union([
  Scalar,
  z.strictObject({
    in: z.array(Scalar).min(1).max(1000).optional(),
    notIn: z.array(Scalar).min(1).max(1000).optional(),
    equals: Scalar.optional(),
    not: Scalar.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    exists: z.boolean().optional(),
  }),
]);

/** All conditions must hold: `{ damaged: true, weightKg: { gte: 2 } }`. */
export const Predicate = z.record(FieldPath, Condition).describe('Field conditions that must all hold.');

const EventMatch = z.strictObject({
  event: z.string().min(1).describe('The CloudEvents type, e.g. curbside.arrived'),
  where: Predicate.optional(),
});

const CorrelatedEvent = z.strictObject({
  event: z.string().min(1).describe('The CloudEvents type, e.g. curbside.arrived'),
  correlate: FieldPath.describe('Field joining the start and end events, e.g. orderId'),
  where: Predicate.optional(),
});

export const DurationMeasure = z.strictObject({
  start: CorrelatedEvent,
  end: CorrelatedEvent,
  relativeTo: FieldPath.optional().describe(
    'Field of the start event holding the expected duration in seconds; the sample becomes actual / expected.',
  ),
  expectedFromScope: FieldPath.optional().describe(
    "Fact of the scope (e.g. the store's promisedWaitSeconds from store.profile) holding the expected duration in seconds, used when the start event lacks relativeTo.",
  ),
  defaultExpected: Duration.optional().describe('Expected duration when neither the start event nor the scope has one.'),
  maxPending: Duration.default('2h').describe('How long a start waits for its end before it is dropped.'),
  unit: z.enum(['seconds', 'minutes', 'hours', 'days']).default('seconds').describe('Unit of the samples (ignored with relativeTo)'),
});

export const ValueMeasure = z.strictObject({
  event: z.string().min(1).describe('The CloudEvents type, e.g. return.completed'),
  field: FieldPath.describe('Numeric field of the event data'),
  where: Predicate.optional(),
});

export const RatioMeasure = z.strictObject({
  numerator: EventMatch,
  denominator: EventMatch,
});

export const Measure = z.union([
  z.strictObject({ duration: DurationMeasure }),
  z.strictObject({ value: ValueMeasure }),
  z.strictObject({ ratio: RatioMeasure }),
]);

export const CpiDefinition = z.strictObject({
  id: Identifier.describe('Unique name of the CPI across all rule files, e.g. curbside-wait'),
  description: z.string().max(2000).optional(),
  unit: z.string().max(64).optional().describe('Shown next to values, e.g. "minutes"'),
  measure: Measure.describe('Exactly one of duration (between two events), value (a number from an event) or ratio (matching events over all events)'),
  groupBy: FieldPath.describe('Dimension the CPI is kept per: storeId, region, channel, customerId, ...'),
  window: Duration.describe('Sliding window size, e.g. 15m'),
  resolution: Duration.default('1m').describe('Bucket size; the window slides by this step'),
  allowedLateness: Duration.default('0s').describe('Events older than the newest seen minus this are late'),
  customers: Predicate.optional().describe(
    "Only the events of customers whose facts (customer.profile), as of the event, match, e.g. valueTier: { in: [gold, platinum] }: the CPI of these customers' own experience",
  ),
});

export const Aggregate = z.enum(AGGREGATES);

/** A tier of a threshold: for the customers whose facts match `when`, this line instead. */
export const ThresholdTier = z.union([
  z.strictObject({
    when: Predicate.describe("Conditions on the customer's facts, e.g. valueTier: { in: [gold, platinum] }"),
    above: z.number().describe('Breach for these customers while the value is greater than this'),
    clear: z.number().optional().describe('Their firing clears once the value is at or below this (default: above)'),
  }),
  z.strictObject({
    when: Predicate.describe("Conditions on the customer's facts, e.g. valueTier: { in: [gold, platinum] }"),
    below: z.number().describe('Breach for these customers while the value is less than this'),
    clear: z.number().optional().describe('Their firing clears once the value is at or above this (default: below)'),
  }),
]);

const Tiers = z.array(ThresholdTier).min(1).max(10).optional()
  .describe("Other lines for some customers, by their facts: the first tier whose when matches is the customer's; the others get the line above");

export const Threshold = z.union([
  z.strictObject({
    above: z.number().describe('Breach while the value is greater than this'),
    clear: z.number().optional().describe('A firing rule clears once the value is at or below this (default: above)'),
    tiers: Tiers,
  }),
  z.strictObject({
    below: z.number().describe('Breach while the value is less than this'),
    clear: z.number().optional().describe('A firing rule clears once the value is at or above this (default: below)'),
    tiers: Tiers,
  }),
]);

/** What a trend compares the CPI's aggregate with (docs/rules.md, "Trends"). */
export const CompareTo = z.union([
  z.enum(['previousWindow', 'sameTimeYesterday', 'sameTimeLastWeek']).describe(
    'previousWindow: the value one window earlier; sameTimeYesterday: 24h earlier; sameTimeLastWeek: 7d earlier',
  ),
  z.strictObject({ offset: Duration.describe('The value this long earlier, e.g. 3h') }),
  z.strictObject({
    baseline: Duration.describe('A rolling baseline: the values recorded over this period before now, e.g. 7d'),
    of: z.enum(['avg', 'median']).default('avg').describe('How the recorded values are summarised'),
  }),
]);

export const Compare = z.strictObject({
  to: CompareTo,
  as: z.enum(['ratio', 'difference']).default('ratio').describe('ratio: now / earlier (1.3 is 30% more); difference: now - earlier'),
  minSamples: z.number().int().min(1).default(1).describe('An earlier value from fewer samples is no baseline (no breach)'),
});

/** One condition of `when`: a CPI's aggregate against a threshold. */
export const CpiCondition = z.strictObject({
  cpi: Identifier.describe('The id of the CPI'),
  aggregate: Aggregate,
  threshold: Threshold,
  minSamples: z.number().int().min(1).default(1).describe('Fewer samples in the window: this condition does not breach'),
  compare: Compare.optional().describe('Compare the aggregate with its own earlier value (a trend); the threshold applies to the ratio or difference'),
});

export const When = z.union([
  z.strictObject({ all: z.array(CpiCondition).min(1).max(8).describe('The rule breaches while every condition does') }),
  z.strictObject({ any: z.array(CpiCondition).min(1).max(8).describe('The rule breaches while at least one condition does') }),
]);

export const Target = z.union([
  z.strictObject({
    enRoute: z.strictObject({
      within: Duration.default('1h').describe('Only customers whose en-route event is this recent'),
    }),
  }),
  z.strictObject({
    contributors: z.strictObject({
      within: Duration.optional().describe('Customers whose own events fed the CPI this recently (default: the window)'),
      where: Predicate.optional().describe('Only events matching this count, e.g. { damaged: true }: the customers who had the bad experience'),
    }),
  }),
  z.strictObject({ scopeCustomer: z.literal(true).describe('The scope is a customer (groupBy: customerId)') }),
]);

const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'a time of day such as "21:30"' });

export const QuietHours = z.strictObject({
  from: TimeOfDay.describe('Start of the quiet period, e.g. "22:00"'),
  to: TimeOfDay.describe('End of the quiet period (exclusive), e.g. "07:00"; may be past midnight'),
  timeZone: z
    .string()
    .default('scope')
    .describe('An IANA zone such as "America/Chicago", or "scope" for the time zone of the breaching store'),
});

export const Budget = z.strictObject({
  max: z.number().int().min(0).describe('At most this many offers ...'),
  per: Duration.describe('... per this period'),
});

export const Guardrails = z.strictObject({
  cooldown: Duration.optional().describe('Same rule, same customer: at most one offer per cooldown'),
  budget: Budget.optional().describe('At most `max` offers per scope (e.g. store) per period'),
  quietHours: QuietHours.optional(),
  holdoutPercent: z.number().min(0).max(100).default(0).describe('Deterministic control group, recorded as suppressed'),
  killSwitch: z.boolean().default(false).describe('true stops every offer of this rule (recorded as suppressed)'),
});

export const Offer = z.strictObject({
  kind: Identifier.describe('e.g. complimentary-drink'),
  code: z
    .string()
    .regex(/^[A-Z0-9-]{2,32}$/, { message: 'a code made of upper-case letters, digits and dashes (2 to 32 characters)' })
    .describe('The offer code shown and redeemed, e.g. CURBSIDE-DRINK'),
  title: z.string().min(1).max(200).describe('One line the customer sees'),
  terms: z.string().max(2000).optional().describe('Conditions of the offer'),
  template: Identifier.optional().describe(
    'Offer texts written as a template: the "--- title" and "--- terms" of templates/<name>.liquid, in the customer\'s language; title and terms above are used when it fails to render',
  ),
  expiresAfter: Duration.describe('The offer expires this long after it is sent'),
  redemption: z
    .strictObject({
      channel: z.string().max(64).describe('e.g. store-bar, online, app'),
      instructions: z.string().max(1000).optional(),
    })
    .optional(),
});

export const EmailAction = z.strictObject({
  template: Identifier.describe('An e-mail template name, e.g. complimentary-drink'),
  subject: z.string().max(200).optional(),
});

export const RuleDefinition = z.strictObject({
  id: Identifier.describe('Unique name of the rule across all rule files; offers carry it'),
  description: z.string().max(2000).optional(),
  cpi: Identifier.optional().describe('The id of the CPI this rule watches (or: when)'),
  aggregate: Aggregate.optional().describe(
    'How the window is summarised: count, sum, avg, min, max, p50/p90/p95/p99 (percentiles, 1% relative error), ratio (ratio CPIs)',
  ),
  threshold: Threshold.optional().describe('above: N or below: N, optionally with a clear line (hysteresis)'),
  compare: Compare.optional().describe('Compare the aggregate with its own earlier value (a trend); the threshold applies to the ratio or difference'),
  when: When.optional().describe('Conditions over several CPIs of the same scope, instead of cpi, aggregate and threshold'),
  for: Duration.default('0s').describe('The breach must last this long before the rule fires'),
  minSamples: z.number().int().min(1).default(1).describe('Do not fire on fewer samples in the window'),
  target: Target.describe('Who gets the offer: enRoute, contributors or scopeCustomer'),
  filter: Predicate.optional().describe("Conditions on the customer's facts, e.g. valueTier: { in: [gold, platinum] }"),
  guardrails: Guardrails.default({ holdoutPercent: 0, killSwitch: false }),
  offer: Offer.describe('The offer published (as a CloudEvent) for each targeted customer'),
  email: EmailAction.optional().describe('Also send the offer by e-mail with this template'),
});

export const Policy = z.strictObject({
  customerCooldown: Duration.optional().describe('Any rule, same customer: at most one offer per this period'),
  frequencyCap: Budget.optional().describe('Any rule, same customer: at most `max` offers per period'),
  killSwitch: z.boolean().default(false).describe('true stops every offer of every rule'),
  defaultTimeZone: z.string().default('UTC').describe('Time zone for quiet hours when a store has none on record'),
});

export const RuleFile = z.strictObject({
  $schema: z.string().optional(),
  cpis: z.array(CpiDefinition).max(500).default([]).describe('Customer performance indicators: what to measure'),
  rules: z.array(RuleDefinition).max(500).default([]).describe('When a CPI breaches, who gets which offer'),
  policy: Policy.optional().describe('Guardrails across all rules; at most one file may set it'),
  eventTypes: z.array(EventTypeDeclaration).max(200).optional().describe('Event types of your own, or fields added to a built-in one (docs/events.md, "Declaring event types")'),
});

export type RuleFileInput = z.input<typeof RuleFile>;
export type RuleFileDoc = z.output<typeof RuleFile>;
export type CpiDefinitionDoc = z.output<typeof CpiDefinition>;
export type RuleDefinitionDoc = z.output<typeof RuleDefinition>;
export type PolicyDoc = z.output<typeof Policy>;
export type PredicateDoc = z.output<typeof Predicate>;
export type ConditionDoc = z.output<typeof Condition>;
export type AggregateName = z.output<typeof Aggregate>;
export type CpiConditionDoc = z.output<typeof CpiCondition>;
export type CompareDoc = z.output<typeof Compare>;
