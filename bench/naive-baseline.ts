/**
 * The naive baseline of the benchmark: the curbside flash offer written the way a typical team would
 * write it first. kafkajs `eachMessage`, one awaited Redis command per operation, no batching, no Lua.
 * Same CPI and rule semantics as rules/curbside.yaml for what it computes:
 *
 *   CPI   curbside wait / promised wait (arrived -> handed-over, joined on orderId, default 5 min),
 *         per store, over the last 15 minutes of event time (samples older than the newest - 15m dropped)
 *   rule  p90 above 1.25 for 2 minutes with at least 5 samples fires; below 1.0 clears;
 *         while firing, gold and platinum customers en route to the store (last 45 min) get an offer,
 *         once per customer per episode, 10% held out (the same hash as cpiwatch's holdout)
 *   out   each offer is sent to the offers topic as it is decided (producer.send per offer)
 *
 * It does less than cpiwatch (no idempotency per offset, no lateness, no transactions, no ledger of
 * suppressed decisions, no quiet hours or budgets), so the comparison flatters it.
 *
 * Run: KAFKA_BROKERS=.. REDIS_URL=.. EVENTS_TOPIC=.. OFFERS_TOPIC=.. GROUP_ID=.. PREFIX=.. \
 *      node --import tsx bench/naive-baseline.ts
 * Prints a JSON line {consumed, offers, firstAt, lastAt, rss} every 500 ms and on SIGTERM.
 */
// first: kafkajs must load with its read-committed filter fixed (read-committed.ts)
import '../src/adapters/kafka/read-committed.js';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { isHeldOut } from '../src/guardrails/stateless.js';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const PREFIX = env('PREFIX', 'naive');
const WINDOW_MS = 15 * 60_000;
const FOR_MS = 2 * 60_000;
const MIN_SAMPLES = 5;
const ABOVE = 1.25;
const CLEAR = 1.0;
const EN_ROUTE_MS = 45 * 60_000;
const DEFAULT_PROMISE_S = 300;
const MAX_PENDING_MS = 2 * 3_600_000;

function p90(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!;
}

interface Event { id: string; type: string; time: string; data: Record<string, unknown> }

async function main(): Promise<void> {
  const redis = new Redis(env('REDIS_URL'));
  const kafka = new Kafka({ clientId: 'naive', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.ERROR });
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: env('GROUP_ID') });
  const offersTopic = env('OFFERS_TOPIC');
  const stats = { consumed: 0, offers: 0, firstAt: 0, lastAt: 0, rss: 0 };
  const k = (...parts: string[]) => [PREFIX, ...parts].join(':');

  async function offer(storeId: string, customerId: string, episode: number, value: number, time: number): Promise<void> {
    const profile = await redis.hgetall(k('customer', customerId));
    if (profile.valueTier !== 'gold' && profile.valueTier !== 'platinum') return;
    if (isHeldOut('curbside-flash-drink', customerId, 10)) return; // the same hash as cpiwatch's holdout
    const id = `${storeId}|${customerId}|${episode}`;
    const fresh = await redis.set(k('offer', id), '1', 'EX', 86_400, 'NX');
    if (fresh !== 'OK') return;
    await producer.send({ topic: offersTopic, messages: [{ key: customerId, value: JSON.stringify({ id, storeId, customerId, value, time: new Date(time).toISOString(), code: 'CURBSIDE-DRINK' }) }] });
    stats.offers += 1;
  }

  async function evaluate(storeId: string, now: number): Promise<void> {
    const key = k('samples', storeId);
    await redis.zremrangebyscore(key, '-inf', `(${now - WINDOW_MS}`);
    const members = await redis.zrange(key, 0, -1);
    const values = members.map((m) => Number(m.split('|')[0]));
    const stateRaw = await redis.get(k('state', storeId));
    const state = stateRaw ? (JSON.parse(stateRaw) as { status: string; since: number; episode?: number }) : { status: 'inactive', since: now };
    const v = values.length >= MIN_SAMPLES ? p90(values) : undefined;
    let next = state;
    if (state.status === 'firing') {
      if (v !== undefined && v < CLEAR) next = { status: 'inactive', since: now };
    } else if (v !== undefined && v > ABOVE) {
      if (state.status === 'pending' && now - state.since >= FOR_MS) next = { status: 'firing', since: now, episode: now };
      else if (state.status !== 'pending') next = { status: 'pending', since: now };
    } else if (state.status === 'pending') {
      next = { status: 'inactive', since: now };
    }
    if (next !== state) await redis.set(k('state', storeId), JSON.stringify(next));
    if (next.status === 'firing' && state.status !== 'firing') {
      // fired: everyone who set out for the store in the last 45 minutes
      const customers = await redis.zrangebyscore(k('enroute', storeId), now - EN_ROUTE_MS, now);
      for (const c of customers) await offer(storeId, c, next.episode!, v!, now);
    }
  }

  async function handle(e: Event): Promise<void> {
    const t = Date.parse(e.time);
    const d = e.data;
    switch (e.type) {
      case 'customer.profile':
        await redis.hset(k('customer', String(d.customerId)), 'valueTier', String(d.valueTier), 'email', String(d.email ?? ''));
        break;
      case 'store.profile':
        await redis.hset(k('store', String(d.storeId)), 'timeZone', String(d.timeZone));
        break;
      case 'customer.en-route': {
        const storeId = String(d.storeId);
        await redis.zadd(k('enroute', storeId), t, String(d.customerId));
        const stateRaw = await redis.get(k('state', storeId));
        const state = stateRaw ? (JSON.parse(stateRaw) as { status: string; episode?: number }) : undefined;
        if (state?.status === 'firing') await offer(storeId, String(d.customerId), state.episode!, 0, t);
        break;
      }
      case 'curbside.arrived':
        await redis.hset(k('pending', String(d.storeId)), String(d.orderId), JSON.stringify({ t, promised: Number(d.promisedWaitSeconds ?? DEFAULT_PROMISE_S) }));
        break;
      case 'curbside.handed-over': {
        const storeId = String(d.storeId);
        const raw = await redis.hget(k('pending', storeId), String(d.orderId));
        if (!raw) break;
        await redis.hdel(k('pending', storeId), String(d.orderId));
        const start = JSON.parse(raw) as { t: number; promised: number };
        if (t - start.t < 0 || t - start.t > MAX_PENDING_MS) break;
        const ratio = (t - start.t) / (start.promised * 1000);
        await redis.zadd(k('samples', storeId), t, `${ratio}|${e.id}`);
        await evaluate(storeId, t);
        break;
      }
    }
  }

  const report = () => {
    stats.rss = process.memoryUsage().rss;
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  };
  const timer = setInterval(report, 500);
  const stop = async () => {
    clearInterval(timer);
    report();
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: env('EVENTS_TOPIC'), fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: Number(process.env.CONCURRENCY ?? 2),
    eachMessage: async ({ message }) => {
      if (stats.firstAt === 0) stats.firstAt = Date.now();
      try {
        await handle(JSON.parse(String(message.value)) as Event);
      } catch (err) {
        console.error(`skipped a bad event: ${(err as Error).message}`);
      }
      stats.consumed += 1;
      stats.lastAt = Date.now();
    },
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
