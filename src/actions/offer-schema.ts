/**
 * The published contract for downstream services: zod schemas of the offer and decision events
 * (CloudEvents 1.0, structured JSON). schemas/offer.v1.schema.json and schemas/decision.v1.schema.json
 * are generated from these; the TypeScript types of offer-event.ts are inferred from them.
 * Versioning: additive changes keep v1; anything else is a new type (cpiwatch.offer.v2) and schema.
 */
import { z } from 'zod';
import { SUPPRESSION_REASONS } from '../guardrails/suppression.js';

const Iso = z.string().describe('RFC 3339 UTC timestamp, e.g. 2026-11-23T18:05:00.000Z');

export const Trigger = z.object({
  cpi: z.string().describe('CPI id, e.g. curbside-wait-vs-promise'),
  aggregate: z.string().describe('Aggregate the rule watches, e.g. p90'),
  value: z.number().describe('The aggregate when the rule fired'),
  direction: z.enum(['above', 'below']),
  threshold: z.number(),
  scope: z.object({ dimension: z.string(), value: z.string() }).describe('What breached, e.g. storeId = S1'),
  episodeStartedAt: Iso.describe('When the breach episode began (event time)'),
  tier: z.number().int().min(1).optional().describe("The threshold tier whose line fired (1 = the rule's first tier), whose customers this offer is for; absent: the rule's own threshold"),
  compare: z.object({
    to: z.string().describe('What the CPI was compared with: previousWindow, sameTimeYesterday, sameTimeLastWeek, "offset 3h", or a baseline such as "avg of 7d"'),
    as: z.enum(['ratio', 'difference']),
  }).optional().describe('The rule watches a trend: value is the ratio (or difference) of the aggregate to its earlier value, and the threshold applies to it'),
});

export const OfferData = z.object({
  schemaVersion: z.literal(1),
  offerId: z.uuid().describe('Idempotency key: the same offer always has the same id'),
  customerId: z.string(),
  rule: z.object({ id: z.string(), version: z.string().describe('Content hash of the rule and its CPI') }),
  trigger: Trigger,
  offer: z.object({
    kind: z.string().describe('e.g. complimentary-drink'),
    code: z.string().describe('Redemption code'),
    title: z.string().describe('One line the customer sees, in the customer\'s language when the rule has offer texts in a template'),
    terms: z.string().optional(),
    locale: z
      .string()
      .optional()
      .describe('The translation the title and terms are in (lower case, e.g. fr, fr-ca), when they come from a translated template; absent: the default text'),
    issuedAt: Iso,
    expiresAt: Iso,
    redemption: z.object({ channel: z.string(), instructions: z.string().optional() }).optional(),
  }),
  channels: z.object({ email: z.boolean().describe('Whether an e-mail is also sent for this offer') }),
});

export const DecisionData = z.object({
  schemaVersion: z.literal(1),
  offerId: z.uuid(),
  outcome: z.enum(['offered', 'suppressed']),
  reason: z
    .enum(SUPPRESSION_REASONS)
    .optional()
    .describe('Why the offer was suppressed'),
  customerId: z.string(),
  rule: z.object({ id: z.string(), version: z.string() }),
  trigger: Trigger,
  decidedAt: Iso,
});

function envelope<T extends z.ZodTypeAny>(type: string, schema: string, data: T) {
  return z.object({
    specversion: z.literal('1.0'),
    id: z.uuid().describe('The offer id (idempotency key)'),
    source: z.literal('urn:cpiwatch:rules'),
    type: z.literal(type),
    time: Iso,
    subject: z.string().describe('The customer id'),
    datacontenttype: z.literal('application/json'),
    dataschema: z.literal(schema),
    traceparent: z.string().optional().describe('W3C trace context of the triggering event'),
    data,
  });
}

export const OFFER_EVENT_TYPE = 'cpiwatch.offer.v1';
export const DECISION_EVENT_TYPE = 'cpiwatch.decision.v1';
export const OfferEvent = envelope(OFFER_EVENT_TYPE, 'urn:cpiwatch:schema:offer:v1', OfferData);
export const DecisionEvent = envelope(DECISION_EVENT_TYPE, 'urn:cpiwatch:schema:decision:v1', DecisionData);

export type OfferDataT = z.output<typeof OfferData>;
export type DecisionDataT = z.output<typeof DecisionData>;

/**
 * The published JSON Schemas. Drawn as the schemas a consumer reads with (`io: 'input'`), so they admit
 * fields they do not name: v1 grows by additive fields (offer.locale), which a consumer validating
 * with this file must let through (docs/offers.md, "Versioning"). Earlier files said
 * `additionalProperties: false` and rejected them.
 */
export function offerJsonSchemas(): Record<string, unknown> {
  return {
    'offer.v1.schema.json': { $id: 'urn:cpiwatch:schema:offer:v1', title: 'cpiwatch offer event v1', ...z.toJSONSchema(OfferEvent, { io: 'input' }) },
    'decision.v1.schema.json': { $id: 'urn:cpiwatch:schema:decision:v1', title: 'cpiwatch decision event v1', ...z.toJSONSchema(DecisionEvent, { io: 'input' }) },
  };
}

/** The generated files' text, by file name (stable formatting, for the drift test and the writer). */
export function renderOfferSchemas(): Map<string, string> {
  return new Map(Object.entries(offerJsonSchemas()).map(([name, schema]) => [name, `${JSON.stringify(schema, null, 2)}\n`]));
}
