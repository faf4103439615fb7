/**
 * The wire formats downstream services consume (docs/offers.md, schemas/offer.v1.schema.json):
 * offers on the offers topic, every decision (offered or suppressed) on the decisions topic.
 * Both are CloudEvents 1.0 in structured mode; the CloudEvent id is the offer id (idempotency key).
 */
import { parseTag } from '../cpis/tags.js';
import type { Decision } from './decision.js';
import { DECISION_EVENT_TYPE, OFFER_EVENT_TYPE, type DecisionDataT, type OfferDataT } from './offer-schema.js';

export { DECISION_EVENT_TYPE, OFFER_EVENT_TYPE };
export const OFFER_SCHEMA_VERSION = 1;
const SOURCE = 'urn:cpiwatch:rules';

export type OfferData = OfferDataT;
export type DecisionData = DecisionDataT;

export interface WireCloudEvent<D> {
  specversion: '1.0';
  id: string;
  source: 'urn:cpiwatch:rules';
  type: string;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  dataschema: string;
  traceparent?: string;
  data: D;
}

const iso = (ms: number) => new Date(ms).toISOString();

function triggerOf(d: Decision): OfferData['trigger'] {
  const scope = parseTag(d.scopeTag);
  // the condition that breached (of a rule over several CPIs), on the line of the tier that fired
  const conditions = (d.tier ? d.rule.tiers?.[d.tier - 1]?.conditions : undefined) ?? d.rule.conditions;
  const line = conditions[d.condition ?? 0] ?? d.rule;
  return {
    cpi: line.cpi.id,
    aggregate: line.aggregate,
    value: d.value,
    direction: line.direction,
    threshold: line.threshold,
    scope,
    episodeStartedAt: iso(d.episode),
    ...(d.tier ? { tier: d.tier } : {}),
    ...('compare' in line && line.compare ? { compare: { to: line.compare.to.name, as: line.compare.as } } : {}),
  };
}

function envelope<D>(d: Decision, type: string, schema: string, data: D): WireCloudEvent<D> {
  return {
    specversion: '1.0',
    id: d.offerId,
    source: SOURCE,
    type,
    time: iso(d.time),
    subject: d.customerId,
    datacontenttype: 'application/json',
    dataschema: schema,
    ...(d.traceparent ? { traceparent: d.traceparent } : {}),
    data,
  };
}

/** The offer event of a decision: its rendered texts (offer-texts.ts) when it has them, else the rule's. */
export function offerEventOf(d: Decision): WireCloudEvent<OfferData> {
  const o = d.rule.offer;
  const texts = d.texts ?? { title: o.title, ...(o.terms !== undefined ? { terms: o.terms } : {}) };
  return envelope(d, OFFER_EVENT_TYPE, 'urn:cpiwatch:schema:offer:v1', {
    schemaVersion: 1,
    offerId: d.offerId,
    customerId: d.customerId,
    rule: { id: d.rule.id, version: d.rule.version },
    trigger: triggerOf(d),
    offer: {
      kind: o.kind,
      code: o.code,
      title: texts.title,
      ...(texts.terms !== undefined ? { terms: texts.terms } : {}),
      ...(texts.locale !== undefined ? { locale: texts.locale } : {}),
      issuedAt: iso(d.time),
      expiresAt: iso(d.time + o.expiresAfterMs),
      ...(o.redemption ? { redemption: { ...o.redemption } } : {}),
    },
    channels: { email: d.rule.email !== undefined },
  });
}

export function decisionEventOf(d: Decision): WireCloudEvent<DecisionData> {
  return envelope(d, DECISION_EVENT_TYPE, 'urn:cpiwatch:schema:decision:v1', {
    schemaVersion: 1,
    offerId: d.offerId,
    outcome: d.outcome,
    ...(d.reason ? { reason: d.reason } : {}),
    customerId: d.customerId,
    rule: { id: d.rule.id, version: d.rule.version },
    trigger: triggerOf(d),
    decidedAt: iso(d.time),
  });
}
