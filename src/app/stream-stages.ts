/**
 * The two stages of `run` on Kafka (docs/operations.md, "Stream time and alignment"):
 *
 *   input topic --(route consumer, group G)--> ops topic (internal, same partition count, keyed by
 *   owning entity; written in one transaction with the input offsets) --(owner consumer, group
 *   G.owners, read committed)--> owner partitions (state in memory, persisted to Redis per batch
 *   under a fencing epoch) --> offers and decisions (one transaction with the ops offsets)
 *
 * and the idle marks: every IDLE_MARK_INTERVAL, each input partition of this process that is caught
 * up (its committed offset at the end of the partition) with no batch in flight sends its owners a
 * mark that moves its watermark by the wall time since its last event or mark, so stream time moves
 * when traffic stops (a quiet store's rule fires, holds and clears on time).
 */
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { BatchMeta, EventConsumerOptions } from '../adapters/kafka/event-consumer.js';
import { EventConsumer } from '../adapters/kafka/event-consumer.js';
import { ExactlyOnce } from '../adapters/kafka/exactly-once.js';
import { KafkaTransactions, transactionalIdFor } from '../adapters/kafka/kafka-transactions.js';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../ops/logger.js';
import { OwnerStage } from '../pipeline/owner-stage.js';
import { sourceWatermarkOf } from '../pipeline/source-watermark.js';
import { RouteStage } from '../pipeline/route-stage.js';
import type { BatchResult } from '../pipeline/types.js';
import type { RuleSet } from '../rules/compiled.js';
import type { Alignment } from '../stream-time/alignment.js';
import { RedisFrontier } from '../store/redis/frontier.js';
import { RedisPartitionState } from '../store/redis/partition-state.js';
import type { PublishJournal } from '../store/redis/publish-journal.js';
import { StateMarker } from '../store/redis/state-marker.js';
import { CpiwatchError } from '../errors/cpiwatch-error.js';
import type { RedisStore } from '../store/redis/redis-store.js';

/** The consumer callbacks the processor shares between its consumers (health, metrics, logs). */
export type ConsumerHooks = Pick<EventConsumerOptions, 'onContact' | 'onBatchError' | 'onRecovered' | 'onPoison'> & {
  onBatch: (result: BatchResult, meta: BatchMeta) => void;
  /** A consumer (of group `group`: the routing stage's or the owners') joined its group. */
  onGroupJoin?: (partitions: number[], group: string) => void;
  /** A consumer crashed (kafkajs restarts it when it can; it is back at its next join). */
  onCrash?: (err: unknown, group: string) => void;
};

export interface StreamStagesOptions {
  settings: Settings;
  kafka: Kafka;
  /** Client for the transactional producers (quick retries). */
  txKafka: Kafka;
  store: RedisStore;
  redis: Redis | Cluster;
  journal: PublishJournal;
  alignment: Alignment;
  log: Logger;
  hooks: ConsumerHooks;
  onTransaction: (batches: number, ms: number) => void;
  /** Redis lost the state (store/redis/state-marker.ts): processing has stopped, with the reason. */
  onStateLost?: (reason: string) => void;
}

export function opsTopicOf(s: Settings): string {
  return s.OPS_TOPIC || `${s.KAFKA_GROUP_ID}.ops`;
}

export class StreamStages {
  readonly opsTopic: string;
  private route?: RouteStage;
  private owner?: OwnerStage;
  private routeConsumer?: EventConsumer;
  private ownerConsumer?: EventConsumer;
  private routeTx?: KafkaTransactions;
  private ownerTx?: KafkaTransactions;
  private marks?: Producer;
  private admin?: Admin;
  private ticker?: NodeJS.Timeout;
  private ticking = false;
  private assigned: number[] = [];
  /** The ops topic's partitions this process owns. */
  private owned: number[] = [];
  /** Per "topic:partition": the partition end its last batch saw, and that batch's last offset. */
  private readonly lastBatch = new Map<string, { end: number; last: number }>();
  private readonly inFlight = new Set<number>();
  private readonly lastActivity = new Map<number, number>();
  private stopped = false;
  /** Seeding the routers of the input partitions just assigned (their batches and marks wait for it). */
  private seeding: Promise<void> = Promise.resolve();
  private state?: RedisPartitionState;
  /** Partitions of the input and ops topics (0 until start). */
  partitions = 0;
  private marker?: StateMarker;
  /** Why processing stopped (Redis lost the state); every batch fails until a restart after a rebuild. */
  private halted?: string;

  constructor(private ruleSet: RuleSet, private readonly o: StreamStagesOptions) {
    this.opsTopic = opsTopicOf(o.settings);
  }

  setRules(ruleSet: RuleSet): void {
    this.ruleSet = ruleSet;
    this.route?.setRules(ruleSet);
    this.owner?.setRules(ruleSet);
  }

  /** Creates the ops topic if missing (as many partitions as the input), then starts both consumers. */
  async start(): Promise<void> {
    const s = this.o.settings;
    const partitions = await this.ensureOpsTopic();
    this.partitions = partitions;
    const ownerGroupId = `${s.KAFKA_GROUP_ID}.owners`;
    this.marker ??= new StateMarker(this.o.redis, this.o.store.keys);
    const ownersCommitted = (await (await this.adminClient()).fetchOffsets({ groupId: ownerGroupId, topics: [this.opsTopic] }))
      .some((t) => t.partitions.some((p) => Number(p.offset) >= 0));
    const lost = await this.marker.check(ownerGroupId, ownersCommitted, Array.from({ length: partitions }, (_, p) => `${this.opsTopic}:${p}`));
    if (lost) this.halt(lost);
    const limits = { maxBytes: s.MAX_EVENT_BYTES };
    this.route ??= new RouteStage(this.ruleSet, { partitions, limits, clock: Date.now, maxFutureMs: s.MAX_FUTURE_SKEW });
    this.state ??= new RedisPartitionState(this.o.redis, this.o.store.keys);
    this.owner ??= new OwnerStage(this.ruleSet, {
      topic: this.opsTopic, partitions,
      state: this.state,
      ledger: this.o.store,
      frontier: new RedisFrontier(this.o.redis, this.o.store.keys, this.opsTopic),
    });
    const timeoutMs = Math.max(1000, Math.min(60_000, s.KAFKA_SESSION_TIMEOUT - 1000));
    const ownerGroup = `${s.KAFKA_GROUP_ID}.owners`;
    const topics = { offers: s.OFFERS_TOPIC, decisions: s.DECISIONS_TOPIC, deadLetters: s.DLQ_TOPIC, ops: this.opsTopic };
    const tx = { transactionTimeoutMs: timeoutMs, log: this.o.log, topics, ...(this.o.onTransaction ? { onCommitted: this.o.onTransaction } : {}) };
    this.routeTx ??= new KafkaTransactions(this.o.txKafka, { transactionalId: transactionalIdFor(s.KAFKA_CLIENT_ID, s.KAFKA_GROUP_ID), groupId: s.KAFKA_GROUP_ID, ...tx });
    this.ownerTx ??= new KafkaTransactions(this.o.txKafka, { transactionalId: transactionalIdFor(s.KAFKA_CLIENT_ID, ownerGroup), groupId: ownerGroup, ...tx });
    this.marks ??= this.o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 10_000 } });
    await this.routeTx.connect();
    await this.ownerTx.connect();
    await this.marks.connect();
    const hooks = this.o.hooks;
    if (!this.routeConsumer) {
      const route = this.route;
      const routeOnce: ExactlyOnce = new ExactlyOnce({
        pipeline: {
          processBatch: async (messages, source, options) => {
            this.assertRunning();
            this.inFlight.add(messages[0]!.origin.partition);
            await this.seeding;
            return route.processBatch(messages, source, options);
          },
          // (an input message that fails for good: the protocol's own dead letter, nothing of it routed)
          abandon: (source) => route.abandon(source),
        },
        journal: this.o.journal, transactions: this.routeTx, limits: this.routeTx.limits, topics, log: this.o.log,
        committedOffset: (topic, partition) => this.committed(s.KAFKA_GROUP_ID, topic, partition),
        settled: (topic, partition) => this.routeConsumer!.settled(topic, partition),
      });
      this.routeConsumer = new EventConsumer({
        ...hooks, onCrash: (err) => hooks.onCrash?.(err, s.KAFKA_GROUP_ID), exactlyOnce: routeOnce, alignment: this.o.alignment, kafka: this.o.kafka, groupId: s.KAFKA_GROUP_ID, topic: s.EVENTS_TOPIC, log: this.o.log,
        partitionsConcurrently: s.PARTITIONS_CONCURRENTLY, sessionTimeoutMs: s.KAFKA_SESSION_TIMEOUT,
        onGroupJoin: (assigned) => {
          this.assigned = assigned;
          this.seeding = this.seed(assigned);
          for (const p of [...this.inFlight]) if (!assigned.includes(p)) this.inFlight.delete(p);
          hooks.onGroupJoin?.(assigned, s.KAFKA_GROUP_ID);
        },
        onBatch: (result, meta) => {
          this.sawBatch(meta);
          this.inFlight.delete(meta.partition);
          this.lastActivity.set(meta.partition, Date.now());
          hooks.onBatch(result, meta);
        },
      });
    }
    if (!this.ownerConsumer) {
      const owner = this.owner;
      const ownerOnce = new ExactlyOnce({
        pipeline: {
          processBatch: (messages, source, options) => { this.assertRunning(); return owner.processBatch(messages, source, options); },
          poisoned: (message, error, source, options) => owner.poisoned(message, error, source, options),
        },
        journal: this.o.journal, transactions: this.ownerTx, limits: this.ownerTx.limits, topics, log: this.o.log,
        committedOffset: (topic, partition) => this.committed(ownerGroup, topic, partition),
        settled: (topic, partition) => this.ownerConsumer!.settled(topic, partition),
      });
      this.ownerConsumer = new EventConsumer({
        exactlyOnce: ownerOnce, kafka: this.o.kafka, groupId: ownerGroup, topic: this.opsTopic, log: this.o.log,
        partitionsConcurrently: s.PARTITIONS_CONCURRENTLY, sessionTimeoutMs: s.KAFKA_SESSION_TIMEOUT,
        ...(hooks.onContact ? { onContact: hooks.onContact } : {}),
        onCrash: (err) => hooks.onCrash?.(err, ownerGroup),
        ...(hooks.onBatchError ? { onBatchError: hooks.onBatchError } : {}),
        ...(hooks.onRecovered ? { onRecovered: hooks.onRecovered } : {}),
        ...(hooks.onPoison ? { onPoison: hooks.onPoison } : {}),
        onGroupJoin: (assigned) => {
          this.owned = assigned;
          owner.assigned(assigned);
          hooks.onGroupJoin?.(assigned, ownerGroup);
        },
        onBatch: (result, meta) => {
          this.sawBatch(meta);
          hooks.onBatch(result, meta);
        },
      });
    }
    await this.ownerConsumer.start();
    await this.routeConsumer.start();
    this.ticker ??= setInterval(() => { void this.tick(); }, Math.max(50, s.IDLE_MARK_INTERVAL));
    this.ticker.unref();
  }

  /** Stops processing for good (this process): Redis lost the state. */
  private halt(reason: string): void {
    if (this.halted) return;
    this.halted = reason;
    this.o.onStateLost?.(reason);
  }

  private assertRunning(): void {
    if (this.halted) throw new CpiwatchError('STATE_LOST', [this.halted]);
  }

  /** Checks that Redis still holds the state, and that no rebuild began (called every few seconds while Redis answers). */
  async watchState(): Promise<void> {
    if (this.halted || !this.marker) return;
    const reason = await this.marker.watch();
    if (reason) this.halt(reason);
  }

  /** The ops topic, created with the input's partition count if missing; a different count is refused. */
  private async ensureOpsTopic(): Promise<number> {
    const s = this.o.settings;
    const admin = await this.adminClient();
    const [input] = (await admin.fetchTopicMetadata({ topics: [s.EVENTS_TOPIC] })).topics;
    const n = input?.partitions.length ?? 0;
    if (n === 0) throw new Error(`topic ${s.EVENTS_TOPIC} has no partitions`);
    const existing = await admin.listTopics();
    if (!existing.includes(this.opsTopic)) {
      try {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: this.opsTopic, numPartitions: n, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] });
        this.o.log.info({ topic: this.opsTopic, partitions: n }, 'ops topic created');
      } catch (err) {
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
    }
    const [ops] = (await admin.fetchTopicMetadata({ topics: [this.opsTopic] })).topics;
    if (ops && ops.partitions.length !== n) {
      throw new Error(`ops topic ${this.opsTopic} has ${ops.partitions.length} partitions, ${s.EVENTS_TOPIC} has ${n}: they must match (delete the ops topic while no processor runs, or set OPS_TOPIC)`);
    }
    return n;
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.o.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  private async committed(groupId: string, topic: string, partition: number): Promise<number> {
    const admin = await this.adminClient();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const p = offsets?.partitions.find((x) => x.partition === partition);
    return p && Number(p.offset) >= 0 ? Number(p.offset) : 0;
  }

  /**
   * Starts the routers of newly assigned input partitions at the watermark the owners last applied
   * from them (their persisted metas), and tells the owners they are active there: a restarted or
   * moved source holds stream time where it was until its events arrive (not late), and its idle
   * marks carry on from there.
   */
  private async seed(assigned: readonly number[]): Promise<void> {
    const route = this.route;
    if (!route || !this.state || assigned.length === 0) return;
    try {
      const metas = await this.state.readMeta(Array.from({ length: this.partitions }, (_, q) => `${this.opsTopic}:${q}`));
      const messages: { partition: number; key: null; value: Buffer }[] = [];
      for (const p of assigned) {
        route.seed(p, sourceWatermarkOf(metas, p));
        // its owners may still think it idle (its previous owner said so): it is not known to be now
        for (const r of route.active(p)) messages.push({ partition: r.partition, key: null, value: r.value });
      }
      if (messages.length > 0) await this.marks!.send({ topic: this.opsTopic, acks: -1, messages });
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'routers not seeded from the owners\' state; they start with the next event');
    }
  }

  /**
   * The consumer lag of the partitions this process consumes, as the broker sees it: each partition's
   * end offset minus its group's committed offset (a stuck or paused partition's lag grows; a batch's
   * own view of the partition end would not show that).
   */
  async lag(): Promise<{ topic: string; partition: number; lag: number }[]> {
    const s = this.o.settings;
    const admin = await this.adminClient();
    const of = async (groupId: string, topic: string, partitions: readonly number[]) => {
      if (partitions.length === 0) return [];
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      return partitions.map((partition) => {
        const end = ends.find((x) => x.partition === partition);
        const c = Number(committed?.partitions.find((x) => x.partition === partition)?.offset ?? -1);
        const from = c >= 0 ? c : Number(end?.low ?? 0);
        const high = Number(end?.high ?? 0);
        // a transaction's commit marker follows its last record: a partition whose last batch
        // reached the end, with nothing written since, is caught up although its end is one past
        const seen = this.lastBatch.get(`${topic}:${partition}`);
        if (seen && seen.end === high && seen.last + 1 === c) return { topic, partition, lag: 0 };
        return { topic, partition, lag: Math.max(0, high - from) };
      });
    };
    return [...(await of(s.KAFKA_GROUP_ID, s.EVENTS_TOPIC, this.assigned)), ...(await of(`${s.KAFKA_GROUP_ID}.owners`, this.opsTopic, this.owned))];
  }

  private sawBatch(meta: { topic: string; partition: number; lastOffset: string; highWatermark: string }): void {
    this.lastBatch.set(`${meta.topic}:${meta.partition}`, { end: Number(meta.highWatermark), last: Number(meta.lastOffset) });
  }

  /** Idle marks for the caught-up input partitions with nothing in flight. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped || this.halted || !this.route || this.assigned.length === 0) return;
    this.ticking = true;
    try {
      await this.seeding;
      const s = this.o.settings;
      const admin = await this.adminClient();
      const [high, [committed]] = await Promise.all([
        admin.fetchTopicOffsets(s.EVENTS_TOPIC),
        admin.fetchOffsets({ groupId: s.KAFKA_GROUP_ID, topics: [s.EVENTS_TOPIC] }),
      ]);
      const now = Date.now();
      const messages: { partition: number; key: null; value: Buffer }[] = [];
      for (const p of this.assigned) {
        if (this.inFlight.has(p)) continue;
        const h = Number(high.find((x) => x.partition === p)?.high ?? 0);
        const c = Number(committed?.partitions.find((x) => x.partition === p)?.offset ?? -1);
        if (h > 0 && c < h) continue;
        const last = this.lastActivity.get(p) ?? now;
        if (!this.lastActivity.has(p)) this.lastActivity.set(p, now);
        if (now - last < s.IDLE_MARK_INTERVAL && this.route.watermark(p) !== null) continue;
        // synchronous from here to the send: no batch of p can start in between
        if (this.inFlight.has(p)) continue;
        for (const r of this.route.idle(p, s.IDLE_ADVANCE === 'wall-clock' ? now - last : 0)) messages.push({ partition: r.partition, key: null, value: r.value });
        this.lastActivity.set(p, now);
      }
      if (messages.length > 0) await this.marks!.send({ topic: this.opsTopic, acks: -1, messages });
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'idle marks not sent; next tick');
    } finally {
      this.ticking = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    // both at once: each waits for its fetch in flight
    await Promise.all([
      this.routeConsumer?.stop().catch((err) => this.o.log.warn({ err }, 'route consumer stop failed')),
      this.ownerConsumer?.stop().catch((err) => this.o.log.warn({ err }, 'owner consumer stop failed')),
    ]);
    await this.routeTx?.disconnect();
    await this.ownerTx?.disconnect();
    await this.marks?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}
