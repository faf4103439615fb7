/**
 * A seeded curbside day as production delivers it (issue 10's scenario): stores with good and bad
 * waits, one that goes quiet right after its waits go bad, one in its quiet hours; customers with
 * profiles, some of them on their way to a store; events delivered out of order (within lateness)
 * and a share of them twice. Every event comes with the keys a producer might give it, so one
 * scenario is produced keyed by store, by order or customer id, or at random. Used by the scenario
 * tests and the benchmark.
 */
import type { CloudEvent } from '../events/cloud-event.js';
import { toWireEvent, type WireCloudEvent } from '../events/decode.js';
import { prng } from './curbside-scenario.js';

export interface MixedScenarioOptions {
  /** Event time of the first event (ms). */
  start: number;
  seed?: number;
  stores?: number;
  customers?: number;
  minutes?: number;
  arrivalsPerStorePerMinute?: number;
  /** Customers setting out for each store (over the scenario). */
  enRoutePerStore?: number;
  /** Up to how far (ms) an event may be delivered after later events (keep it under the lateness). */
  disorderMs?: number;
  /** Share of events delivered a second time, a little later. */
  duplicateRate?: number;
  /** Up to how much later (ms) a duplicate is delivered (0: right after the original). */
  duplicateDelayMs?: number;
  idPrefix?: string;
}

export type Keying = 'store' | 'entity' | 'random';

export interface MixedEvent {
  event: WireCloudEvent;
  /** The Kafka key of each keying: the store, the order or customer, a random one. */
  keys: Record<Keying, string>;
}

export interface MixedStore { storeId: string; busy: boolean; quietAfterMinute?: number; night: boolean }

export interface MixedScenario {
  /** In delivery order (what a producer sends, in this order). */
  events: MixedEvent[];
  stores: MixedStore[];
  duplicates: number;
}

const TIERS = ['platinum', 'gold', 'silver', 'bronze'] as const;

/** An Etc/GMT zone in which `time` is at `hour` local time (whole hours). */
function zoneAt(time: number, hour: number): string {
  let offset = (hour - new Date(time).getUTCHours() + 24) % 24;
  if (offset > 12) offset -= 24;
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

export function mixedScenario(o: MixedScenarioOptions): MixedScenario {
  const rand = prng(o.seed ?? 7);
  const p = o.idPrefix ?? 'mix';
  const storeCount = Math.max(4, o.stores ?? 8);
  const customerCount = o.customers ?? 1000;
  const minutes = o.minutes ?? 60;
  const perMinute = o.arrivalsPerStorePerMinute ?? 3;
  const enRoutePerStore = o.enRoutePerStore ?? 40;
  const disorderMs = o.disorderMs ?? 45_000;
  const promised = 300;
  const raw: { time: number; event: CloudEvent; keys: Record<Keying, string> }[] = [];
  let seq = 0;
  const randomKey = () => `k${Math.floor(rand() * 1e9).toString(36)}`;
  const emit = (type: string, time: number, data: Record<string, unknown>, keys: { store: string; entity: string }) =>
    raw.push({ time: Math.round(time), event: { specversion: '1.0', id: `${p}-${++seq}`, source: 'urn:cpiwatch:samples:mixed', type, time: Math.round(time), data }, keys: { ...keys, random: randomKey() } });

  // half the stores busy (waits past the promise from minute 3 to 2/3 of the way); store 0 is bad at
  // once and goes quiet when its bad waits are in (minute 16), before its rule has held for `for`; store 1 is busy at night (quiet hours hold its offers back)
  const busyUntil = Math.round(minutes * 2 / 3);
  const stores: MixedStore[] = Array.from({ length: storeCount }, (_, i) => ({
    storeId: `${p}-store-${i + 1}`, busy: i < storeCount / 2, night: i === 1, ...(i === 0 ? { quietAfterMinute: 16 } : {}),
  }));
  for (const s of stores) {
    emit('store.profile', o.start, { storeId: s.storeId, timeZone: zoneAt(o.start, s.night ? 23 : 12), name: `Store ${s.storeId}` }, { store: s.storeId, entity: s.storeId });
  }
  const customers = Array.from({ length: customerCount }, (_, i) => `${p}-cust-${i + 1}`);
  customers.forEach((customerId, i) => {
    const tier = TIERS[Math.floor(rand() * TIERS.length)]!;
    emit('customer.profile', o.start + (i % 1000), {
      customerId, valueTier: tier, lifetimeValue: tier === 'platinum' ? 5200 : tier === 'gold' ? 1800 : tier === 'silver' ? 400 : 90,
      email: `${customerId}@example.com`, name: `Customer ${i + 1}`,
    }, { store: customerId, entity: customerId });
  });

  for (const s of stores) {
    const until = s.quietAfterMinute !== undefined ? o.start + s.quietAfterMinute * 60_000 : Number.POSITIVE_INFINITY;
    let order = 0;
    for (let m = 0; m < minutes; m++) {
      for (let k = 0; k < perMinute; k++) {
        const t = o.start + 60_000 + m * 60_000 + (k + rand()) * (60_000 / perMinute);
        const orderId = `${s.storeId}-order-${++order}`;
        const customerId = customers[Math.floor(rand() * customers.length)]!;
        const bad = s.busy && m >= (s.quietAfterMinute !== undefined ? 0 : 3) && m < busyUntil;
        const factor = bad ? 1.6 + rand() * 0.8 : 0.4 + rand() * 0.4;
        const handed = t + factor * promised * 1000;
        if (t < until) emit('curbside.arrived', t, { orderId, storeId: s.storeId, customerId, promisedWaitSeconds: promised }, { store: s.storeId, entity: orderId });
        if (t < until && handed < until) emit('curbside.handed-over', handed, { orderId, storeId: s.storeId, customerId }, { store: s.storeId, entity: orderId });
      }
    }
    for (let i = 0; i < enRoutePerStore; i++) {
      const t = o.start + 120_000 + rand() * (minutes - 2) * 60_000;
      if (t >= until - 60_000) continue;
      const customerId = customers[Math.floor(rand() * customers.length)]!;
      emit('customer.en-route', t, { customerId, storeId: s.storeId, etaSeconds: 600 + Math.floor(rand() * 1800) }, { store: s.storeId, entity: customerId });
    }
  }

  // delivery: by event time, a share of events held back by up to disorderMs; then duplicates
  const delivered = raw.map((r) => ({ ...r, at: r.time + (rand() < 0.3 ? rand() * disorderMs : 0) }));
  let duplicates = 0;
  for (const r of [...delivered]) {
    if (r.event.type.endsWith('.profile') || rand() >= (o.duplicateRate ?? 0.03)) continue;
    delivered.push({ ...r, at: r.at + rand() * (o.duplicateDelayMs ?? 20_000) });
    duplicates += 1;
  }
  delivered.sort((a, b) => a.at - b.at || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
  return { events: delivered.map((r) => ({ event: toWireEvent(r.event), keys: r.keys })), stores, duplicates };
}
