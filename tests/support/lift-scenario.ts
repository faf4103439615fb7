// A seeded lift scenario for `cpiwatch lift` tests and the docs example: decisions of one rule
// (offered, a holdout group, a few other suppressions) and order.placed outcome events, where
// offered customers convert with `offered` and held-out ones with `heldOut` probability within the
// horizon. Noise the join must ignore: orders before the decision, orders after the horizon,
// other event types. Deterministic (the samples' seeded prng).
import { createHash } from 'node:crypto';
import { prng } from '../../src/samples/curbside-scenario.js';

export interface LiftScenarioOptions {
  customers: number;
  /** share held out, e.g. 0.1 */
  holdout: number;
  /** probability of an order within the horizon */
  offered: number;
  heldOut: number;
  seed: number;
  ruleId?: string;
  /** decisions start here (ms) */
  start?: number;
}

export const HORIZON_MS = 7 * 86_400_000;
const DAY = 86_400_000;

/** A UUID-shaped id from a text (decision events need uuids). */
export function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function decisionEvent(o: { ruleId: string; customerId: string; time: number; outcome: 'offered' | 'suppressed'; reason?: string; key?: string }): Record<string, unknown> {
  const offerId = uuidOf(`${o.ruleId}/${o.customerId}/${o.key ?? o.time}`);
  return {
    specversion: '1.0', id: offerId, source: 'urn:cpiwatch:rules', type: 'cpiwatch.decision.v1', time: iso(o.time), subject: o.customerId,
    datacontenttype: 'application/json', dataschema: 'urn:cpiwatch:schema:decision:v1',
    data: {
      schemaVersion: 1, offerId, outcome: o.outcome, ...(o.reason ? { reason: o.reason } : {}), customerId: o.customerId,
      rule: { id: o.ruleId, version: 'v-1a2b3c' },
      trigger: { cpi: 'curbside-wait-vs-promise', aggregate: 'p90', value: 1.4, direction: 'above', threshold: 1.25, scope: { dimension: 'storeId', value: 'store-A' }, episodeStartedAt: iso(o.time - 120_000) },
      decidedAt: iso(o.time),
    },
  };
}

export function orderEvent(customerId: string, time: number, n: number, channel = 'web'): Record<string, unknown> {
  return { specversion: '1.0', id: `order-${customerId}-${n}`, source: 'urn:shop', type: 'order.placed', time: iso(time), data: { orderId: `o-${customerId}-${n}`, customerId, channel, region: 'eu' } };
}

export interface LiftScenario {
  decisions: Record<string, unknown>[];
  events: Record<string, unknown>[];
  /** the customers of each arm, and how many converted: what lift must count */
  expected: { offered: number; offeredConverted: number; heldOut: number; heldOutConverted: number; otherSuppressed: number };
}

export function liftScenario(o: LiftScenarioOptions): LiftScenario {
  const rnd = prng(o.seed);
  const ruleId = o.ruleId ?? 'curbside-flash-drink';
  const start = o.start ?? Date.parse('2026-11-02T09:00:00Z');
  const decisions: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  const expected = { offered: 0, offeredConverted: 0, heldOut: 0, heldOutConverted: 0, otherSuppressed: 0 };
  let last = start;
  for (let i = 0; i < o.customers; i++) {
    const customerId = `cust-${String(i).padStart(5, '0')}`;
    const time = start + Math.floor(rnd() * 7 * DAY);
    const r = rnd();
    const held = r < o.holdout;
    const quiet = !held && r > 0.98; // 2%: suppressed by quiet hours, in neither arm
    decisions.push(decisionEvent({ ruleId, customerId, time, outcome: held || quiet ? 'suppressed' : 'offered', ...(held ? { reason: 'holdout' } : quiet ? { reason: 'quiet-hours' } : {}) }));
    if (quiet) { expected.otherSuppressed += 1; continue; }
    // a second decision a day later (another episode): counted once, with the first
    if (rnd() < 0.1) decisions.push(decisionEvent({ ruleId, customerId, time: time + DAY, outcome: held ? 'suppressed' : 'offered', ...(held ? { reason: 'holdout' } : {}) }));
    const converts = rnd() < (held ? o.heldOut : o.offered);
    if (held) { expected.heldOut += 1; if (converts) expected.heldOutConverted += 1; } else { expected.offered += 1; if (converts) expected.offeredConverted += 1; }
    let n = 0;
    if (converts) events.push(orderEvent(customerId, time + 1 + Math.floor(rnd() * (HORIZON_MS - 1)), n++));
    // noise: an order before the decision, one after the horizon, a visit of another type
    if (rnd() < 0.3) events.push(orderEvent(customerId, time - 1 - Math.floor(rnd() * DAY), n++));
    if (rnd() < 0.3) events.push(orderEvent(customerId, time + HORIZON_MS + 1 + Math.floor(rnd() * DAY), n++));
    if (rnd() < 0.2) events.push({ specversion: '1.0', id: `visit-${customerId}`, source: 'urn:shop', type: 'customer.en-route', time: iso(time + 3_600_000), data: { customerId, storeId: 'store-A', etaSeconds: 300 } });
    last = Math.max(last, time);
  }
  // an event after every horizon: the observation covers all decisions
  events.push({ specversion: '1.0', id: 'end-marker', source: 'urn:shop', type: 'store.profile', time: iso(last + DAY + HORIZON_MS * 2), data: { storeId: 'store-A', timeZone: 'Europe/Berlin' } });
  events.sort((a, b) => String(a.time).localeCompare(String(b.time)));
  return { decisions, events, expected };
}

export const ndjson = (records: readonly unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
