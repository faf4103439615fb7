/**
 * The wire formats downstream services consume (docs/offers.md, schemas/offer.v1.schema.json):
 * offers on the offers topic, every decision (offered or suppressed) on the decisions topic.
 * Both are CloudEvents 1.0 in structured mode; the CloudEvent id is the offer id (idempotency key).
 */
import { parseTag } from '../cpis/tags.js';
import type { Decision } from './decision.js';

export const OFFER_EVENT_TYPE = 'cpiwatch.offer.v1';
export const DECISION_EVENT_TYPE = 'cpiwatch.decision.v1';
export const OFFER_SCHEMA_VERSION = 1;
const SOURCE = 'urn:cpiwatch:rules';

export interface OfferData {
  schemaVersion: 1;
  offerId: string;
  customerId: string;
  rule: { id: string; version: string };
  trigger: {
    cpi: string;
    aggregate: string;
    value: number;
    direction: 'above' | 'below';
    threshold: number;
    scope: { dimension: string; value: string };
    episodeStartedAt: string;
  };
  offer: {
    kind: string;
    code: string;
    title: string;
    terms?: string;
    issuedAt: string;
    expiresAt: string;
    redemption?: { channel: string; instructions?: string };
  };
  channels: { email: boolean };
}

export interface DecisionData {
  schemaVersion: 1;
  offerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: string;
  customerId: string;
  rule: { id: string; version: string };
  trigger: OfferData['trigger'];
  decidedAt: string;
}

export interface WireCloudEvent<D> {
  specversion: '1.0';
  id: string;
  source: string;
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
  return {
    cpi: d.rule.cpi.id,
    aggregate: d.rule.aggregate,
    value: d.value,
    direction: d.rule.direction,
    threshold: d.rule.threshold,
    scope,
    episodeStartedAt: iso(d.episode),
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

export function offerEventOf(d: Decision): WireCloudEvent<OfferData> {
  const o = d.rule.offer;
  return envelope(d, OFFER_EVENT_TYPE, 'urn:cpiwatch:schema:offer:v1', {
    schemaVersion: OFFER_SCHEMA_VERSION,
    offerId: d.offerId,
    customerId: d.customerId,
    rule: { id: d.rule.id, version: d.rule.version },
    trigger: triggerOf(d),
    offer: {
      kind: o.kind,
      code: o.code,
      title: o.title,
      ...(o.terms !== undefined ? { terms: o.terms } : {}),
      issuedAt: iso(d.time),
      expiresAt: iso(d.time + o.expiresAfterMs),
      ...(o.redemption ? { redemption: { ...o.redemption } } : {}),
    },
    channels: { email: d.rule.email !== undefined },
  });
}

export function decisionEventOf(d: Decision): WireCloudEvent<DecisionData> {
  return envelope(d, DECISION_EVENT_TYPE, 'urn:cpiwatch:schema:decision:v1', {
    schemaVersion: OFFER_SCHEMA_VERSION,
    offerId: d.offerId,
    outcome: d.outcome,
    ...(d.reason ? { reason: d.reason } : {}),
    customerId: d.customerId,
    rule: { id: d.rule.id, version: d.rule.version },
    trigger: triggerOf(d),
    decidedAt: iso(d.time),
  });
}
