/**
 * BENCH_TAKEOVER=1: two `cpiwatch run` instances in one group while input flows at a steady rate
 * (BENCH_TAKEOVER_RATE events/s, default 2,000, for BENCH_TAKEOVER_SECONDS, default 60); after
 * BENCH_TAKEOVER_KILL_AT seconds (default 20) one of them gets SIGKILL. Reported, from the kill:
 *  - resumed: every partition the dead instance owned (input group and owners group) has a committed
 *    offset past the one it had at the kill (the survivor processes it);
 *  - caught up: the survivor is the only member of both groups and the lag over all partitions is
 *    back to what it was before the kill (at most max(1.5 x its pre-kill median, rate x 0.5 s)), i.e.
 *    it processes the dead one's partitions at full rate; its events/s over each second beside it;
 *  - the state the survivor loaded when it claimed them: entities (fields) and bytes of the dead
 *    instance's owner partitions in Redis (read at the kill: what the claim reads back);
 * against KAFKA_SESSION_TIMEOUT (BENCH_TAKEOVER_SESSION_TIMEOUT, default 10s) + 5 s.
 */
import { AssignerProtocol, type Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import { parseDuration } from '../src/shared/duration.js';
import { curveEvents } from './curve-input.js';
import type { CurveKit } from './curve.js';
import type { Child } from './index.js';

export interface TakeoverKit {
  brokers: string[];
  redisUrl: string;
  redis: Redis;
  start(env: Record<string, string>, label: string): Promise<Child>;
  env(brokers: string[], redisUrl: string, names: { topic: string; group: string; prefix: string; offers: string }): Record<string, string>;
}

export interface TakeoverResult {
  rate: number; seconds: number; killAtSeconds: number; sessionTimeoutMs: number; partitions: number;
  /** Partitions the killed instance owned, per group. */
  killedOwned: { input: number[]; owners: number[] };
  preKillEventsPerSecond: number; preKillLag: number;
  resumedAfterSeconds: number | null; caughtUpAfterSeconds: number | null;
  /** caught up within KAFKA_SESSION_TIMEOUT + 5 s. */
  withinTarget: boolean;
  stateLoaded: { entities: number; bytes: number };
  /** The survivor's events/s, second by second from the kill (cpiwatch_events_total). */
  survivorRateAfterKill: number[];
  eventsProduced: number; eventsCounted: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Partitions per member of a group, by the member's client id (KAFKA_CLIENT_ID: cpiwatch-a, cpiwatch-b). */
async function ownedBy(admin: Admin, group: string): Promise<Map<string, number[]>> {
  const { groups } = await admin.describeGroups([group]);
  const out = new Map<string, number[]>();
  for (const m of groups[0]?.members ?? []) {
    const a = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
    out.set(m.clientId, Object.values(a?.assignment ?? {}).flat());
  }
  return out;
}

/** Committed offset and lag per partition of a group on a topic. */
async function offsets(admin: Admin, group: string, topic: string): Promise<Map<number, { committed: number; lag: number }>> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
  const c = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return new Map(ends.map((e) => {
    const at = Math.max(0, c.get(e.partition) ?? 0);
    return [e.partition, { committed: at, lag: Math.max(0, Number(e.high) - at) }];
  }));
}

const totalLag = (...ms: Map<number, { lag: number }>[]) => ms.reduce((s, m) => s + [...m.values()].reduce((a, p) => a + p.lag, 0), 0);

export async function runTakeover(kit: CurveKit, t: TakeoverKit): Promise<TakeoverResult> {
  const rate = Number(process.env.BENCH_TAKEOVER_RATE ?? 2000);
  const seconds = Number(process.env.BENCH_TAKEOVER_SECONDS ?? 60);
  const killAt = Number(process.env.BENCH_TAKEOVER_KILL_AT ?? 20);
  const session = process.env.BENCH_TAKEOVER_SESSION_TIMEOUT ?? '10s';
  const sessionTimeoutMs = parseDuration(session);
  if (sessionTimeoutMs === undefined) throw new Error(`BENCH_TAKEOVER_SESSION_TIMEOUT: expected a duration such as 10s, got ${session}`);
  const topic = `bench.${kit.id}.takeover`;
  const offers = `bench.${kit.id}.takeover-offers`;
  const group = `bench-${kit.id}-takeover`;
  const prefix = 'takeover';
  const ops = `${group}.ops`;
  await kit.createTopics(kit.kafka, [{ topic, numPartitions: kit.partitions }, { topic: offers, numPartitions: 1 }, { topic: `${offers}.decisions`, numPartitions: 1 }, { topic: `${topic}.dlq`, numPartitions: 1 }]);
  const env = { ...t.env(t.brokers, t.redisUrl, { topic, group, prefix, offers }), KAFKA_SESSION_TIMEOUT: session };
  const [a, b] = [await t.start({ ...env, KAFKA_CLIENT_ID: 'cpiwatch-a' }, 'takeover-a'), await t.start({ ...env, KAFKA_CLIENT_ID: 'cpiwatch-b' }, 'takeover-b')];
  const admin = kit.kafka.admin();
  const producer = kit.kafka.producer();
  const events = curveEvents({ events: rate * seconds, stores: 1000, customers: 1000, start: Date.now(), spanMs: seconds * 1000, idPrefix: `tk${kit.id.slice(-6)}`, promisedWaitSeconds: 5 });
  // (short waits: event time stays within seconds of the wall clock, paced by the list's order)
  try {
    await admin.connect();
    await producer.connect();
    for (let i = 0; !((await a.ready()) && (await b.ready())); i++) {
      if (i > 600) throw new Error('the takeover instances did not become ready');
      await sleep(100);
    }
    // both members in both groups, each with some partitions, before the input starts
    for (let i = 0; ; i++) {
      const [inp, own] = [await ownedBy(admin, group), await ownedBy(admin, `${group}.owners`)].map((m) => [...m.values()]);
      if (inp!.length === 2 && own!.length === 2 && inp!.every((p) => p.length > 0) && own!.every((p) => p.length > 0)) break;
      if (i > 120) throw new Error('the two instances did not share the partitions within 60 s');
      await sleep(500);
    }
    const members = async (g: string) => [...(await ownedBy(admin, g)).values()];
    const ownedByA = async (g: string) => [...(await ownedBy(admin, g)).entries()].filter(([c]) => c.startsWith('cpiwatch-a')).flatMap(([, ps]) => ps).sort((x, y) => x - y);
    let sent = 0;
    const t0 = performance.now();
    const pending: Promise<unknown>[] = [];
    const samples: { at: number; lag: number; survivor: number; all: number }[] = [];
    let killedAt = 0;
    let killed: { input: number[]; owners: number[] } = { input: [], owners: [] };
    let atKill: { input: Map<number, { committed: number }>; owners: Map<number, { committed: number }> } | undefined;
    let state = { entities: 0, bytes: 0 };
    let resumedAt: number | null = null;
    let caughtUpAt: number | null = null;
    let lastSample = 0;
    const count = async (c: Child) => (c.proc.exitCode === null && c.proc.signalCode === null ? (await c.metric('cpiwatch_events_total')) ?? 0 : 0);
    while (sent < events.length || (killedAt > 0 && caughtUpAt === null && performance.now() - killedAt < 120_000)) {
      const now = performance.now();
      const due = Math.min(events.length, Math.floor(((now - t0) / 1000) * rate) + 1);
      if (due > sent) {
        pending.push(producer.send({ topic, acks: -1, messages: events.slice(sent, due).map((e) => ({ key: e.key, value: JSON.stringify(e.event), headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' } })) }));
        sent = due;
        if (pending.length > 50) await pending.shift();
      }
      if (killedAt === 0 && now - t0 >= killAt * 1000) {
        // the instance to kill: a; what it owns now (input topic and ops topic), then SIGKILL
        killed = { input: await ownedByA(group), owners: await ownedByA(`${group}.owners`) };
        a.proc.kill('SIGKILL');
        killedAt = performance.now();
        atKill = { input: await offsets(admin, group, topic), owners: await offsets(admin, `${group}.owners`, ops) };
        state = await partitionState(t.redis, prefix, ops, killed.owners);
        kit.log(`takeover: SIGKILL to instance a at ${killAt} s (it owned input partitions ${killed.input.join(',')} and owner partitions ${killed.owners.join(',')}: ${state.entities} entities, ${state.bytes} bytes in Redis)`);
      }
      if (now - lastSample >= 250) {
        lastSample = now;
        const [inp, own] = [await offsets(admin, group, topic), await offsets(admin, `${group}.owners`, ops)];
        const s = { at: performance.now(), lag: totalLag(inp, own), survivor: await count(b), all: (await count(a)) + (await count(b)) };
        samples.push(s);
        if (killedAt > 0 && atKill) {
          const moved = (m: Map<number, { committed: number }>, before: Map<number, { committed: number }>, ps: number[]) => ps.every((p) => (m.get(p)?.committed ?? 0) > (before.get(p)?.committed ?? 0));
          if (resumedAt === null && moved(inp, atKill.input, killed.input) && moved(own, atKill.owners, killed.owners)) resumedAt = now;
          if (resumedAt !== null && caughtUpAt === null) {
            const pre = samples.filter((x) => x.at < killedAt && x.at > t0 + 5000).map((x) => x.lag).sort((x, y) => x - y);
            const threshold = Math.max(1.5 * (pre[Math.floor(pre.length / 2)] ?? 0), rate * 0.5);
            if (s.lag <= threshold && (await members(group)).length === 1 && (await members(`${group}.owners`)).length === 1) caughtUpAt = now;
          }
        }
      }
      await sleep(10);
    }
    await Promise.all(pending);
    // pre-kill rate: both instances' events over the 5 s before the kill
    const before = samples.filter((x) => x.at < killedAt && x.at >= killedAt - 5250);
    const preRate = before.length > 1 ? (before.at(-1)!.all - before[0]!.all) / ((before.at(-1)!.at - before[0]!.at) / 1000) : 0;
    const preLags = samples.filter((x) => x.at < killedAt && x.at > t0 + 5000).map((x) => x.lag).sort((x, y) => x - y);
    const perSecond: number[] = [];
    const after = samples.filter((x) => x.at >= killedAt);
    for (let i = 0, from = after[0]; from && i < 60; i++) {
      const to = after.find((x) => x.at >= from!.at + 1000);
      if (!to) break;
      perSecond.push(Math.round((to.survivor - from.survivor) / ((to.at - from.at) / 1000)));
      from = to;
    }
    const resumed = resumedAt === null ? null : Math.round((resumedAt - killedAt) / 100) / 10;
    const caught = caughtUpAt === null ? null : Math.round((caughtUpAt - killedAt) / 100) / 10;
    return {
      rate, seconds, killAtSeconds: killAt, sessionTimeoutMs, partitions: kit.partitions, killedOwned: killed,
      preKillEventsPerSecond: Math.round(preRate), preKillLag: preLags[Math.floor(preLags.length / 2)] ?? 0,
      resumedAfterSeconds: resumed, caughtUpAfterSeconds: caught, withinTarget: caught !== null && caught * 1000 <= sessionTimeoutMs + 5000,
      stateLoaded: state, survivorRateAfterKill: perSecond, eventsProduced: events.length, eventsCounted: samples.at(-1)?.survivor ?? 0,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    await b.stop();
    await kit.deleteTopics(kit.kafka, [topic, offers, `${offers}.decisions`, `${topic}.dlq`]);
  }
}

/** Entities and bytes (MEMORY USAGE) of some owner partitions' state in Redis (store/redis/keys.ts). */
async function partitionState(redis: Redis, prefix: string, opsTopic: string, partitions: number[]): Promise<{ entities: number; bytes: number }> {
  let entities = 0;
  let bytes = 0;
  for (const p of partitions) {
    const base = `{${prefix}:p:${opsTopic}:${p}}`;
    entities += await redis.hlen(`${base}:entities`);
    for (const k of ['entities', 'offsets', 'meta', 'epoch']) bytes += Number((await redis.call('MEMORY', 'USAGE', `${base}:${k}`, 'SAMPLES', '0')) ?? 0);
  }
  return { entities, bytes };
}

export function takeoverTable(r: TakeoverResult): string {
  return [
    '',
    '| takeover (SIGKILL of 1 of 2 instances) | result | target |',
    '| --- | --- | --- |',
    `| input | ${r.rate.toLocaleString('en')} events/s for ${r.seconds} s, ${r.partitions} partitions, kill at ${r.killAtSeconds} s; before it ${r.preKillEventsPerSecond.toLocaleString('en')} events/s, lag ${r.preKillLag} | |`,
    `| killed instance owned | input partitions ${r.killedOwned.input.join(',')}, owner partitions ${r.killedOwned.owners.join(',')} | |`,
    `| state the survivor loaded | ${r.stateLoaded.entities.toLocaleString('en')} entities, ${(r.stateLoaded.bytes / 1024).toFixed(0)} KB | |`,
    `| kill -> survivor processes them (every partition's offset moves) | ${r.resumedAfterSeconds ?? 'never'} s | |`,
    `| kill -> caught up (lag back to the pre-kill level, survivor alone) | ${r.caughtUpAfterSeconds ?? 'not within 120 s'} s | <= KAFKA_SESSION_TIMEOUT ${r.sessionTimeoutMs / 1000} s + 5 s |`,
    `| survivor events/s, second by second from the kill | ${r.survivorRateAfterKill.join(' ')} | |`,
  ].join('\n');
}
