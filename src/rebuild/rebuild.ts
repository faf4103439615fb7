/**
 * `cpiwatch rebuild --from <time>`: rebuilds the state Redis lost from the input topic's retention,
 * without sending again what was already published. Like Kafka Streams' application reset tool it
 * runs while no processor of the deployment runs (it refuses, CPW403, while one of the consumer
 * groups has members), and it only prepares: `cpiwatch run` afterwards rebuilds windows, rule
 * states, facts and stream time by processing the replayed input as always.
 *
 *   1. the state marker becomes a "rebuilding" one: a processor that starts now, or finds it while
 *      running, stops processing (state-marker.ts); an interrupted rebuild leaves it so
 *   2. what is left of the state goes (store/redis/state-reset.ts): owner partitions, frontier,
 *      offer ledger, publish journals; the e-mail delivery states stay
 *   3. the ledger is re-seeded from the decisions and offers topics, read committed: every decision
 *      published (offers and suppressions) is in it as published, offers in the contact histories
 *      and budgets (seed-decisions.lua). Offer ids are deterministic, so when the replay decides one
 *      again it is a replay and is not published again, and cooldowns, the frequency cap and
 *      budgets count the offers already out
 *   4. the routing group's offsets on the input topic go to --from (per partition, the first record
 *      at or after that time, or the start of the retention for `earliest`); the owners' group's on
 *      the ops topic go to its end: what is on it was derived from input that is routed again
 *   5. the marker is written again: the processor starts ready
 *
 * Each step can be repeated: a rebuild that failed half-way is run again.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { readTopicToEnd, type TopicExtent, type TopicRecord } from '../adapters/kafka/topic-reader.js';
import { opsTopicOf } from '../app/stream-stages.js';
import type { Settings } from '../config/settings.js';
import { CpiwatchError } from '../errors/cpiwatch-error.js';
import { parseRfc3339 } from '../events/rfc3339.js';
import type { RuleSet } from '../rules/compiled.js';
import { RedisKeys } from '../store/redis/keys.js';
import { RedisLedgerSeeder, type LedgerSeed, type SeedCounts } from '../store/redis/ledger-seed.js';
import { resetState, type ResetCounts } from '../store/redis/state-reset.js';
import { StateMarker, type MarkerValue } from '../store/redis/state-marker.js';
import { rulesById, seedOf, type SeedContext } from './published-decisions.js';

export type FromBound = { earliest: true } | { time: number };

/** `earliest` or an RFC 3339 time; anything else is an error message. */
export function parseFrom(text: string): FromBound | string {
  if (text === 'earliest') return { earliest: true };
  const t = parseRfc3339(text);
  return typeof t === 'number' ? { time: t } : `--from must be "earliest" or an RFC 3339 time such as 2026-11-23T18:00:00Z, got "${text}": ${t}`;
}

export interface GroupReset {
  group: string;
  topic: string;
  /** Per partition: the committed offset before (null: none) and after. */
  partitions: { partition: number; before: number | null; after: number }[];
}

export interface TopicRead {
  topic: string;
  records: number;
  /** Records that are no decision cpiwatch understands, by reason (not seeded). */
  skipped: Record<string, number>;
  /** Partitions whose oldest records retention deleted. */
  trimmed: { partition: number; low: number }[];
  /** Kafka timestamp of the oldest record read. */
  oldest: number | null;
}

export interface RebuildReport {
  dryRun: boolean;
  prefix: string;
  from: string;
  groups: { routing: string; owners: string; email: string };
  topics: { input: string; ops: string; opsExists: boolean; offers: string; decisions: string };
  marker: { before: MarkerValue | null };
  removed: ResetCounts;
  /** Seeded into the ledger (dry run: what would be). */
  seeded: SeedCounts;
  read: TopicRead[];
  offsets: GroupReset[];
  /** Input records the processor replays (from the new offsets to the end, today). */
  replay: number;
  warnings: string[];
  /** How long the rebuild took (ms). */
  elapsedMs: number;
}

export interface RebuildOptions {
  settings: Settings;
  ruleSet: RuleSet;
  kafka: Kafka;
  redis: Redis | Cluster;
  from: FromBound;
  /** --from as given. */
  fromText: string;
  dryRun?: boolean;
  /** Longest a topic read may go without progress (read committed waits for open transactions). */
  readTimeoutMs?: number;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A refusal because a consumer group has members: a processor of the deployment still runs. */
export class ProcessorsRunning extends CpiwatchError {
  constructor(detail: string) {
    super('REBUILD_REFUSED', [detail]);
  }
}

/** A failure after the rebuild began changing the state: it is unusable until a rebuild completes. */
export class RebuildInterrupted extends Error {
  constructor(cause: unknown) {
    super(`${cause instanceof Error ? cause.message : String(cause)}; the state is not usable until a rebuild completes (a processor stops with CPW402): run cpiwatch rebuild again`, { cause });
    this.name = 'RebuildInterrupted';
  }
}

/** The groups with members (a processor of this deployment is running), as one message; null when none. */
export async function activeMembers(admin: Admin, groups: readonly string[]): Promise<string | null> {
  const { groups: described } = await admin.describeGroups([...groups]);
  // members, not the state: a group is briefly rebalancing with none after its last member left
  const busy = described.filter((g) => g.members.length > 0);
  if (busy.length === 0) return null;
  return busy.map((g) => {
    const who = [...new Set(g.members.map((m) => `${m.clientId}@${m.clientHost.replace(/^\//, '')}`))].join(', ');
    return `the consumer group ${g.groupId} is ${g.state} with ${g.members.length} member(s)${who ? ` (${who})` : ''}`;
  }).join('; ');
}

async function committed(admin: Admin, group: string, topic: string): Promise<Map<number, number>> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map((offsets?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
}

/** Per input partition: the offset --from names (the end when no record is that late). */
async function fromOffsets(admin: Admin, topic: string, from: FromBound): Promise<{ partition: number; offset: number; high: number }[]> {
  const marks = await admin.fetchTopicOffsets(topic);
  const highOf = (p: number) => Number(marks.find((m) => m.partition === p)?.high ?? 0);
  if ('earliest' in from) return marks.map((m) => ({ partition: m.partition, offset: Number(m.low), high: Number(m.high) })).sort((a, b) => a.partition - b.partition);
  const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, from.time);
  return byTime.map((r) => ({ partition: r.partition, offset: Number(r.offset) < 0 ? highOf(r.partition) : Number(r.offset), high: highOf(r.partition) })).sort((a, b) => a.partition - b.partition);
}

/** Sets a group's offsets (no member may be in it: kafkajs checks) and checks that they took. */
async function setGroupOffsets(admin: Admin, group: string, topic: string, offsets: { partition: number; offset: number }[]): Promise<void> {
  if (offsets.length === 0) return;
  await admin.setOffsets({ groupId: group, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: String(o.offset) })) });
  const now = await committed(admin, group, topic);
  const wrong = offsets.filter((o) => now.get(o.partition) !== o.offset);
  if (wrong.length > 0) throw new Error(`the offsets of ${group} on ${topic} did not take: ${wrong.map((o) => `partition ${o.partition} is at ${now.get(o.partition) ?? 'none'}, not ${o.offset}`).join(', ')}`);
}

function addCounts(a: SeedCounts, b: SeedCounts): void {
  a.offered += b.offered;
  a.suppressed += b.suppressed;
  a.known += b.known;
}

/** Seeds per topic read, deduplicated in a dry run (nothing is written to tell seeds apart). */
function dryCounter(): { count(seeds: LedgerSeed[]): SeedCounts } {
  const seen = new Set<string>();
  return {
    count(seeds) {
      const c: SeedCounts = { offered: 0, suppressed: 0, known: 0 };
      for (const s of seeds) {
        if (seen.has(s.offerId)) c.known += 1;
        else { seen.add(s.offerId); c[s.outcome] += 1; }
      }
      return c;
    },
  };
}

export async function rebuild(o: RebuildOptions): Promise<RebuildReport> {
  const s = o.settings;
  const started = Date.now();
  const dryRun = o.dryRun ?? false;
  const say = o.progress ?? (() => undefined);
  const keys = new RedisKeys(s.REDIS_PREFIX);
  const opsTopic = opsTopicOf(s);
  const groups = { routing: s.KAFKA_GROUP_ID, owners: `${s.KAFKA_GROUP_ID}.owners`, email: s.EMAIL_GROUP_ID };
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    // preflight: nothing is changed before every check passed
    const topics = new Set(await admin.listTopics());
    if (!topics.has(s.EVENTS_TOPIC)) throw new CpiwatchError('REBUILD_REFUSED', [`the input topic ${s.EVENTS_TOPIC} does not exist (check EVENTS_TOPIC)`]);
    const [input] = (await admin.fetchTopicMetadata({ topics: [s.EVENTS_TOPIC] })).topics;
    const partitions = input?.partitions.length ?? 0;
    const opsExists = topics.has(opsTopic);
    if (opsExists) {
      const [ops] = (await admin.fetchTopicMetadata({ topics: [opsTopic] })).topics;
      if ((ops?.partitions.length ?? 0) !== partitions) throw new CpiwatchError('REBUILD_REFUSED', [`the ops topic ${opsTopic} has ${ops?.partitions.length ?? 0} partitions, ${s.EVENTS_TOPIC} has ${partitions}: they must match (docs/operations.md, "Scaling")`]);
    }
    const busy = await activeMembers(admin, [groups.routing, groups.owners, groups.email]);
    if (busy) throw new ProcessorsRunning(`${busy}. Stop every cpiwatch run of this deployment first (a process that was killed leaves its group when its session times out, KAFKA_SESSION_TIMEOUT), then run cpiwatch rebuild again`);

    const report: RebuildReport = {
      dryRun, prefix: s.REDIS_PREFIX, from: o.fromText, groups,
      topics: { input: s.EVENTS_TOPIC, ops: opsTopic, opsExists, offers: s.OFFERS_TOPIC, decisions: s.DECISIONS_TOPIC },
      marker: { before: null }, removed: { partitionKeys: 0, frontier: 0, offers: 0, histories: 0, budgets: 0, journals: 0, emails: 0, other: 0 },
      seeded: { offered: 0, suppressed: 0, known: 0 }, read: [], offsets: [], replay: 0, warnings: [], elapsedMs: 0,
    };
    const inputFrom = await fromOffsets(admin, s.EVENTS_TOPIC, o.from);
    const routingBefore = await committed(admin, groups.routing, s.EVENTS_TOPIC);
    report.offsets.push({ group: groups.routing, topic: s.EVENTS_TOPIC, partitions: inputFrom.map((p) => ({ partition: p.partition, before: routingBefore.get(p.partition) ?? null, after: p.offset })) });
    report.replay = inputFrom.reduce((n, p) => n + Math.max(0, p.high - p.offset), 0);
    if (opsExists) {
      const ends = await admin.fetchTopicOffsets(opsTopic);
      const ownersBefore = await committed(admin, groups.owners, opsTopic);
      report.offsets.push({ group: groups.owners, topic: opsTopic, partitions: ends.map((e) => ({ partition: e.partition, before: ownersBefore.get(e.partition) ?? null, after: Number(e.high) })).sort((a, b) => a.partition - b.partition) });
    }

    const marker = new StateMarker(o.redis, keys);
    report.marker.before = await marker.read();
    const change = async (): Promise<void> => {
      say(`${dryRun ? 'would remove' : 'removing'} the state under "${s.REDIS_PREFIX}" (${partitions} owner partitions of ${opsTopic}, frontier, offer ledger, publish journals; e-mail states kept)`);
      report.removed = await resetState(o.redis, keys, { opsTopic, partitions }, dryRun);

      // the decisions topic has every decision, the offers topic the offers again (one transaction
      // wrote both): reading both keeps every offer known when one topic's retention is the shorter
      const ctx: SeedContext = { ruleSet: o.ruleSet, opsTopic, partitions };
      const rules = rulesById(o.ruleSet);
      const seeder = new RedisLedgerSeeder(o.redis, keys);
      const dry = dryCounter();
      for (const topic of [...new Set([s.DECISIONS_TOPIC, s.OFFERS_TOPIC])]) {
        const read: TopicRead = { topic, records: 0, skipped: {}, trimmed: [], oldest: null };
        report.read.push(read);
        if (!topics.has(topic)) { say(`${topic} does not exist: nothing to re-seed from it`); continue; }
        say(`reading ${topic} (read committed) to re-seed the offer ledger`);
        const extent: TopicExtent = await readTopicToEnd(o.kafka, topic, {
          ...(o.readTimeoutMs !== undefined ? { timeoutMs: o.readTimeoutMs } : {}),
          onBatch: async (records: TopicRecord[]) => {
            const seeds: LedgerSeed[] = [];
            for (const r of records) {
              const got = seedOf(r.value, ctx, rules);
              if ('seed' in got) seeds.push(got.seed);
              else read.skipped[got.skip] = (read.skipped[got.skip] ?? 0) + 1;
            }
            addCounts(report.seeded, dryRun ? dry.count(seeds) : await seeder.seed(seeds));
          },
        });
        read.records = extent.records;
        read.oldest = extent.oldest;
        read.trimmed = extent.partitions.filter((p) => p.low > 0).map((p) => ({ partition: p.partition, low: p.low }));
      }
      report.warnings.push(...warningsOf(report, o.from));

      if (!dryRun) {
        for (const g of report.offsets) {
          say(`setting the offsets of ${g.group} on ${g.topic}`);
          await setGroupOffsets(admin, g.group, g.topic, g.partitions.map((p) => ({ partition: p.partition, offset: p.after })));
        }
        // a processor that joined meanwhile found the marker "rebuilding" and processed nothing; it
        // still must not run on: refuse to finish while it is there
        const late = await activeMembers(admin, [groups.routing, groups.owners, groups.email]);
        if (late) throw new ProcessorsRunning(`${late} (a processor started during the rebuild). Stop it, then run cpiwatch rebuild again`);
        await marker.finishRebuild(groups.owners, o.fromText);
      }
    };

    if (!dryRun) await marker.beginRebuild(groups.owners, o.fromText);
    try {
      await change();
    } catch (err) {
      throw dryRun ? err : new RebuildInterrupted(err);
    }
    report.elapsedMs = Date.now() - started;
    return report;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What the operator should know about the result (retention of the output topics, a late --from). */
export function warningsOf(report: Pick<RebuildReport, 'read' | 'from'>, from: FromBound): string[] {
  const out: string[] = [];
  for (const r of report.read) {
    const n = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    if (n > 0) out.push(`${n} record(s) of ${r.topic} are no cpiwatch decision (${Object.entries(r.skipped).map(([why, k]) => `${k} ${why}`).join(', ')}): not re-seeded; if they were offers, the replay may send them again`);
  }
  const trimmed = report.read.filter((r) => r.trimmed.length > 0);
  if (trimmed.length > 0) {
    // the newest of the topics' oldest records: decisions published before it may be unknown
    const since = Math.max(...trimmed.map((r) => r.oldest ?? 0));
    if ('earliest' in from || from.time < since) {
      out.push(`retention deleted the oldest records of ${trimmed.map((r) => `${r.topic} (partitions ${r.trimmed.map((t) => t.partition).join(', ')})`).join(' and ')}: decisions published before ${since > 0 ? iso(since) : 'the oldest record left'} may be unknown, and replaying input older than that may send their offers again (a later --from avoids it)`);
    }
  }
  if (!('earliest' in from)) {
    out.push(`--from ${report.from}: windows, rule states and customers' facts (profiles, en-route events) start empty at it; what came before it is not in the rebuilt state`);
  }
  return out;
}
