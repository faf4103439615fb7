/**
 * The seeds' curbside scenario as a deterministic event stream (seeded): store A's curbside waits run
 * past the promise during a busy spell, store B's do not; high-value and regular customers are on
 * their way to both. Used by the demo, the integration tests and the benchmark.
 */
import type { WireCloudEvent } from '../events/decode.js';
import { toWireEvent } from '../events/decode.js';
import type { CloudEvent } from '../events/cloud-event.js';

export interface ScenarioOptions {
  /** Event time of the first event (ms). */
  start: number;
  seed?: number;
  /** Stores: the first `busyStores` have bad waits, the rest normal. */
  stores?: number;
  busyStores?: number;
  /** Curbside arrivals per store per minute. */
  arrivalsPerMinute?: number;
  minutes?: number;
  /** Customers en route to each store (half of them high value). */
  enRoutePerStore?: number;
  timeZone?: string;
  promisedWaitSeconds?: number;
  /** Prefix of every id, so runs do not collide. */
  idPrefix?: string;
}

export interface ScenarioEvent {
  key: string;
  event: WireCloudEvent;
}

export interface Scenario {
  events: ScenarioEvent[];
  stores: { storeId: string; busy: boolean }[];
  /** Customers en route, with their store, tier and when they set out. */
  enRoute: { customerId: string; storeId: string; valueTier: string; time: number }[];
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TIERS = ['platinum', 'gold', 'silver', 'bronze'] as const;

export function curbsideScenario(o: ScenarioOptions): Scenario {
  const rand = prng(o.seed ?? 42);
  const p = o.idPrefix ?? 'demo';
  const storeCount = o.stores ?? 2;
  const busyCount = o.busyStores ?? 1;
  const perMinute = o.arrivalsPerMinute ?? 4;
  const minutes = o.minutes ?? 20;
  const enRoutePerStore = o.enRoutePerStore ?? 8;
  const promised = o.promisedWaitSeconds ?? 300;
  const raw: { key: string; event: CloudEvent }[] = [];
  let seq = 0;
  const emit = (key: string, type: string, time: number, data: Record<string, unknown>) =>
    raw.push({ key, event: { specversion: '1.0', id: `${p}-${++seq}`, source: 'urn:cpiwatch:samples:curbside', type, time: Math.round(time), data } });

  const stores = Array.from({ length: storeCount }, (_, i) => ({ storeId: `${p}-store-${String.fromCharCode(65 + (i % 26))}${i >= 26 ? i : ''}`, busy: i < busyCount }));
  const enRoute: Scenario['enRoute'] = [];
  for (const s of stores) emit(s.storeId, 'store.profile', o.start, { storeId: s.storeId, timeZone: o.timeZone ?? 'America/Chicago', name: `Store ${s.storeId}` });

  let customerSeq = 0;
  const newCustomer = (tier: string, time: number) => {
    const customerId = `${p}-cust-${++customerSeq}`;
    emit(customerId, 'customer.profile', time, {
      customerId, valueTier: tier, lifetimeValue: tier === 'platinum' ? 5200 : tier === 'gold' ? 1800 : tier === 'silver' ? 400 : 90,
      email: `${customerId.replace(/[^A-Za-z0-9._-]/g, "-")}@example.com`, name: `Customer ${customerSeq}`,
    });
    return customerId;
  };

  for (const s of stores) {
    let order = 0;
    for (let m = 0; m < minutes; m++) {
      for (let k = 0; k < perMinute; k++) {
        const t = o.start + 60_000 + m * 60_000 + (k + rand()) * (60_000 / perMinute);
        const orderId = `${s.storeId}-order-${++order}`;
        // the profile is on record before the day starts, as the en-route customers' are: a profile
        // dated later would, produced first, carry stream time past the events before it
        const customerId = newCustomer(TIERS[Math.floor(rand() * 4)]!, o.start);
        emit(s.storeId, 'curbside.arrived', t, { orderId, storeId: s.storeId, customerId, promisedWaitSeconds: promised });
        // busy stores: waits climb past the promise after the first few minutes
        const factor = s.busy && m >= 3 ? 1.6 + rand() * 0.8 : 0.4 + rand() * 0.4;
        emit(s.storeId, 'curbside.handed-over', t + factor * promised * 1000, { orderId, storeId: s.storeId, customerId });
      }
    }
    // customers set out for the store: half before the breach, half during it
    for (let i = 0; i < enRoutePerStore; i++) {
      const tier = i % 2 === 0 ? TIERS[i % 4 === 0 ? 0 : 1]! : TIERS[2 + (i % 4 === 1 ? 0 : 1)]!;
      const t = o.start + 60_000 + (i < enRoutePerStore / 2 ? 4 * 60_000 : 13 * 60_000) + i * 7_000;
      // profiles are known well before anyone sets out (facts must precede the decision)
      const customerId = newCustomer(tier, o.start + i);
      emit(s.storeId, 'customer.en-route', t, { customerId, storeId: s.storeId, etaSeconds: 1500 });
      enRoute.push({ customerId, storeId: s.storeId, valueTier: tier, time: t });
    }
  }
  raw.sort((a, b) => a.event.time - b.event.time || (a.event.id < b.event.id ? -1 : 1));
  return { events: raw.map((r) => ({ key: r.key, event: toWireEvent(r.event) })), stores, enRoute };
}
