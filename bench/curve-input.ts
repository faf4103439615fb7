/**
 * The input of the scaling curves (bench/curve.ts, BENCH_CURVE=1), pure and seeded:
 *  - curveRuleFiles: rule files of 20 CPIs and N rules. CPI 0 is the curbside wait against the
 *    promise and CPI 1 a ratio over the same events: the only CPIs the curve's events feed. Rule 0 is
 *    on CPI 0; every other rule is on one of CPIs 2-19, which measure return.completed events, which the
 *    input never carries. So an event feeds the same one rule whatever N is, and the curve shows the cost of the
 *    rules it does not feed.
 *  - curveEvents: store and customer profiles, then curbside arrivals and handovers over `stores`
 *    stores, `customers` customers and `spanMs` of event time, in time order.
 */
import { toWireEvent } from '../src/events/encode.js';
import type { CloudEvent } from '../src/events/cloud-event.js';
import { prng, type ScenarioEvent } from '../src/samples/curbside-scenario.js';

export const CURVE_CPIS = 20;

export interface CurveRuleOptions { rules: number; window?: string; resolution?: string }

/** Rules per file: a rule file holds at most 500 (RULE_FILE_LIMITS); CPIs are in the first file. */
const RULES_PER_FILE = 250;

/** The curve's rule files (name, text), to write into one RULES_DIR. */
export function curveRuleFiles(o: CurveRuleOptions): { name: string; text: string }[] {
  if (!Number.isInteger(o.rules) || o.rules < 1) throw new Error(`rules must be a whole number >= 1, got ${o.rules}`);
  const window = o.window ?? '15m';
  const resolution = o.resolution ?? '1m';
  const cpis: string[] = ['cpis:'];
  cpis.push(
    '  - id: bench-cpi-0',
    '    description: Curbside wait divided by the promised wait (fed by the curve\'s events).',
    '    measure:',
    '      duration:',
    '        start: { event: curbside.arrived, correlate: orderId }',
    '        end: { event: curbside.handed-over, correlate: orderId }',
    '        relativeTo: promisedWaitSeconds',
    '        defaultExpected: 5m',
    '        maxPending: 2h',
    '    groupBy: storeId',
    `    window: ${window}`,
    `    resolution: ${resolution}`,
    '    allowedLateness: 2m',
    '  - id: bench-cpi-1',
    '    description: Share of arrivals handed over (fed by the curve\'s events).',
    '    measure:',
    '      ratio:',
    '        numerator: { event: curbside.handed-over }',
    '        denominator: { event: curbside.arrived }',
    '    groupBy: storeId',
    `    window: ${window}`,
    `    resolution: ${resolution}`,
    '    allowedLateness: 2m',
  );
  for (let c = 2; c < CURVE_CPIS; c++) {
    cpis.push(
      `  - id: bench-cpi-${c}`,
      `    description: Steps of completed returns over ${c} (an event type the curve's input never carries).`,
      '    measure:',
      `      value: { event: return.completed, field: steps, where: { steps: { gt: ${c} } } }`,
      '    groupBy: channel',
      `    window: ${window}`,
      `    resolution: ${resolution}`,
    );
  }
  const rule = (r: number): string[] => {
    const cpi = r === 0 ? 0 : 2 + ((r - 1) % (CURVE_CPIS - 2));
    return [
      `  - id: bench-rule-${r}`,
      `    description: Curve rule ${r} on bench-cpi-${cpi}.`,
      `    cpi: bench-cpi-${cpi}`,
      '    aggregate: p90',
      `    threshold: { above: ${1.25 + r / 1000}, clear: 1.0 }`,
      '    minSamples: 5',
      '    target:',
      r === 0 ? '      enRoute: { within: 45m }' : '      contributors: { within: 1h }',
      '    guardrails:',
      '      cooldown: 24h',
      '    offer:',
      '      kind: complimentary-drink',
      `      code: BENCH-${r}`,
      '      title: A drink on us while you wait',
      '      expiresAfter: 2h',
      '      redemption: { channel: store-bar }',
    ];
  };
  const files: { name: string; text: string }[] = [];
  for (let first = 0; first < o.rules; first += RULES_PER_FILE) {
    const lines = first === 0 ? [...cpis, ''] : [];
    lines.push('rules:');
    for (let r = first; r < Math.min(o.rules, first + RULES_PER_FILE); r++) lines.push(...rule(r));
    files.push({ name: `curve-${String(files.length).padStart(2, '0')}.yaml`, text: `${lines.join('\n')}\n` });
  }
  return files;
}

export interface CurveEventOptions {
  /** Events in all (at least stores + customers: every store and customer has its profile). */
  events: number;
  stores: number;
  customers: number;
  /** Event time of the first event (ms) and how much event time the events cover. */
  start: number;
  spanMs: number;
  idPrefix: string;
  seed?: number;
  /** The promised wait (default 300 s); a handover follows its arrival by 0.4-1.6 times it. */
  promisedWaitSeconds?: number;
}

/** The curve's input, in event-time order; each scope's profile first, then arrival/handover pairs spread over the span. */
export function curveEvents(o: CurveEventOptions): ScenarioEvent[] {
  if (o.stores < 1 || o.customers < 0) throw new Error('a curve needs at least one store');
  const rand = prng(o.seed ?? 11);
  const p = o.idPrefix;
  const out: { key: string; event: CloudEvent }[] = [];
  let seq = 0;
  const emit = (key: string, type: string, time: number, data: Record<string, unknown>) =>
    out.push({ key, event: { specversion: '1.0', id: `${p}-${++seq}`, source: 'urn:cpiwatch:bench:curve', type, time: Math.round(time), data } });
  const store = (i: number) => `${p}-s${i}`;
  const customer = (i: number) => `${p}-c${i}`;
  for (let i = 0; i < o.stores; i++) emit(store(i), 'store.profile', o.start, { storeId: store(i), timeZone: 'Etc/UTC', name: `Store ${i}` });
  for (let i = 0; i < o.customers; i++) emit(customer(i), 'customer.profile', o.start, { customerId: customer(i), valueTier: i % 4 === 0 ? 'gold' : 'silver', lifetimeValue: 500 });
  const pairs = Math.max(0, Math.floor((o.events - o.stores - o.customers) / 2));
  for (let j = 0; j < pairs; j++) {
    const t = o.start + 1000 + (j / Math.max(1, pairs)) * o.spanMs;
    const storeId = store(j % o.stores);
    const orderId = `${p}-o${j}`;
    const data = { orderId, storeId, ...(o.customers > 0 ? { customerId: customer(j % o.customers) } : {}) };
    const promised = o.promisedWaitSeconds ?? 300;
    emit(storeId, 'curbside.arrived', t, { ...data, promisedWaitSeconds: promised });
    emit(storeId, 'curbside.handed-over', t + (0.4 + rand() * 1.2) * promised * 1000, data);
  }
  out.sort((a, b) => a.event.time - b.event.time || a.event.id.localeCompare(b.event.id));
  return out.map((r) => ({ key: r.key, event: toWireEvent(r.event) }));
}
