/**
 * One cpiwatch processor: the routing and owner stages on Kafka (app/stream-stages.ts; state in
 * Redis) -> offers and decisions on Kafka, with health, metrics, the e-mail channel and graceful
 * shutdown. Used by `cpiwatch run` and by the integration tests.
 */
// first: kafkajs must load with its read-committed filter fixed (read-committed.ts)
import { coordinatorLoadingErrors } from '../adapters/kafka/kafka-log.js';
import { readCommittedIsSafe } from '../adapters/kafka/read-committed.js';
import { ErrorCodes } from '../errors/codes.js';
import { CpiwatchError, messageOf } from '../errors/cpiwatch-error.js';
import { CpiIssueLog } from '../ops/cpi-issues.js';
import { StuckPartitions } from '../ops/stuck-partitions.js';
import type { Cluster, Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { EmailWorker } from '../adapters/smtp/email-worker.js';
import { createTransport } from '../adapters/smtp/transport.js';
import { createKafka, kafkaConfig } from '../adapters/kafka/kafka-client.js';
import type { Settings } from '../config/settings.js';
import { Health } from '../ops/health.js';
import { startHttpServer } from '../ops/http-server.js';
import type { Logger } from '../ops/logger.js';
import { Metrics } from '../ops/metrics.js';
import { liveAccess, liveRoutes, REFUSED_MESSAGE } from '../ops/live/live-routes.js';
import { LiveState } from '../ops/live/live-state.js';
import { offerTextFallbackMessage } from '../actions/offer-texts.js';
import { latestFactsReader } from '../pipeline/latest-facts.js';
import { StreamStages, type ConsumerHooks } from './stream-stages.js';
import { Alignment } from '../stream-time/alignment.js';
import { alignmentBoundOf } from '../stream-time/alignment-bound.js';
import type { BatchResult } from '../pipeline/types.js';
import type { RuleSet } from '../rules/compiled.js';
import { connectRedis } from '../store/redis/connect.js';
import { RedisPartitionState } from '../store/redis/partition-state.js';
import { PublishJournal } from '../store/redis/publish-journal.js';
import { RedisStore } from '../store/redis/redis-store.js';

export interface ProcessorOptions {
  settings: Settings;
  ruleSet: RuleSet;
  log: Logger;
  /** Start the HTTP endpoint (default true). */
  http?: boolean;
  onBatch?: (result: BatchResult) => void;
}

export class Processor {
  readonly health = new Health();
  readonly metrics = new Metrics();
  /** What the live page shows: the last evaluations and decisions, bounded (ops/live/live-state.ts). */
  readonly live = new LiveState();
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  /** Watermark alignment of this instance's input partitions (bound follows the rules). */
  readonly alignment: Alignment;
  /** The routing and owner stages. */
  private readonly stages: StreamStages;
  private ruleSet: RuleSet;
  private readonly store: RedisStore;
  private readonly email?: EmailWorker;
  private http?: { port: number; close: () => Promise<void> };
  private redisTimer?: NodeJS.Timeout;
  private stopped = false;
  private stopSignal?: () => void;
  private readonly stopRequested = new Promise<void>((resolve) => { this.stopSignal = resolve; });
  /** Last time the broker answered the consumer (fetch, heartbeat, join). */
  private lastKafkaContact = 0;
  /** Consumer groups whose consumer crashed and has not joined again. */
  private readonly crashed = new Set<string>();
  private readonly stuck = new StuckPartitions();
  private readonly cpiIssues: CpiIssueLog;
  private joined = false;

  constructor(private readonly options: ProcessorOptions) {
    const s = options.settings;
    const log = options.log;
    this.cpiIssues = new CpiIssueLog(log);
    this.kafka = createKafka(s, log);
    this.redis = connectRedis(s);
    this.redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
    this.store = new RedisStore(this.redis, s.REDIS_PREFIX);
    this.alignment = new Alignment(alignmentBoundOf(s.ALIGNMENT_BOUND, options.ruleSet));
    this.ruleSet = options.ruleSet;
    this.health.watch((ready) => this.metrics.ready.set(ready ? 1 : 0));
    // the transactional producers' own client: the coordinator answers CONCURRENT_TRANSACTIONS for a
    // few ms after a commit, and kafkajs retries that with the client's backoff (300 ms here, 20 ms
    // in the Java client)
    const txKafka = new Kafka({ ...kafkaConfig(s, log), retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 12 } });
    const hooks: ConsumerHooks = {
      onContact: () => {
        this.lastKafkaContact = Date.now();
        if (this.joined && this.crashed.size === 0 && !this.stopped && !this.health.report().checks.kafka.ok) this.health.set('kafka', true, `broker answering again, member of ${s.KAFKA_GROUP_ID}`);
      },
      // ready again only once every consumer that crashed has joined its group again (each stage's
      // consumer restarts and rejoins on its own)
      onGroupJoin: (partitions, group) => {
        this.crashed.delete(group);
        this.stuck.keepOnly(group === s.KAFKA_GROUP_ID ? s.EVENTS_TOPIC : this.stages.opsTopic, partitions);
        this.health.set('partitions', this.stuck.size === 0, this.stuck.describe());
        if (group !== s.KAFKA_GROUP_ID && !this.joined) return; // the owners joined before the routing stage
        this.joined = true;
        if (this.crashed.size === 0) this.health.set('kafka', true, `joined ${group}, partitions ${partitions.join(',') || 'none'}`);
      },
      onCrash: (err, group) => {
        this.crashed.add(group);
        this.health.set('kafka', false, `consumer of ${group} crashed: ${(err as Error).message}`);
      },
      // a failing batch is named on /readyz by its partition, the error's code and since when; one
      // the input caused is split until the message behind it is dead-lettered (not a stuck partition)
      onBatchError: (err, at) => {
        this.metrics.batchErrors.inc({ code: err instanceof CpiwatchError ? err.code : 'none', retriable: String(at.retriable) });
        if (!at.retriable) return;
        this.stuck.failed(at, err);
        this.health.set('partitions', false, this.stuck.describe());
      },
      onRecovered: (at) => {
        if (this.stuck.recovered(at)) this.health.set('partitions', this.stuck.size === 0, this.stuck.describe());
      },
      onPoison: (err) => this.metrics.poisoned.inc({ code: err.code }),
      onBatch: (result, meta) => {
        this.metrics.recordBatch(result, meta.durationMs);
        this.live.record(result);
        this.lastKafkaContact = Date.now();
        this.cpiIssues.report(result.cpiIssues);
        for (const late of result.lateEvents) log.info({ eventId: late.eventId, topic: late.origin.topic, partition: late.origin.partition, offset: late.origin.offset }, 'late event not applied');
        for (const dl of result.deadLetters) log.warn({ code: dl.code, reason: dl.reason, topic: dl.message.origin.topic, partition: dl.message.origin.partition, offset: dl.message.origin.offset }, 'event dead-lettered');
        for (const d of result.published) {
          log.info({ offerId: d.offerId, ruleId: d.rule.id, customerId: d.customerId, outcome: d.outcome, reason: d.reason }, d.outcome === 'offered' ? 'offer published' : 'offer suppressed');
          const fallback = d.texts?.fallback;
          if (fallback) log.warn({ code: ErrorCodes.TEMPLATE_RENDER_FAILED.code, offerId: d.offerId, ruleId: d.rule.id, template: fallback.template, err: fallback.reason }, offerTextFallbackMessage(d.offerId, fallback));
        }
        options.onBatch?.(result);
      },
    };
    const journal = new PublishJournal(this.redis, this.store.keys);
    this.stages = new StreamStages(options.ruleSet, {
      settings: s, kafka: this.kafka, txKafka, store: this.store, redis: this.redis, journal, alignment: this.alignment, log, hooks,
      onTransaction: (batches, ms) => this.metrics.recordTransaction(batches, ms),
      onStateLost: (reason) => {
        this.metrics.stateLost.set(1);
        this.health.set('state', false, `lost: ${reason}`);
        log.error({ code: ErrorCodes.STATE_LOST.code, reason }, messageOf('STATE_LOST', reason));
      },
    });
    this.setRules(options.ruleSet);
    const transport = createTransport(s);
    if (transport) {
      this.email = new EmailWorker({
        kafka: this.kafka, groupId: s.EMAIL_GROUP_ID, offersTopic: s.OFFERS_TOPIC, transport, from: s.EMAIL_FROM,
        facts: latestFactsReader(new RedisPartitionState(this.redis, this.store.keys), this.stages.opsTopic, () => this.stages.partitions),
        store: this.store, log, maxAttempts: s.EMAIL_MAX_ATTEMPTS,
        emailActions: () => this.emailActions(),
        templates: () => this.ruleSet.templates,
        onResult: (result) => this.metrics.emails.inc({ result }),
      });
    }
  }

  private emailActions(): ReadonlyMap<string, { template: string; subject?: string }> {
    const map = new Map<string, { template: string; subject?: string }>();
    for (const r of this.ruleSet.rules) if (r.email) map.set(r.id, r.email);
    return map;
  }

  /** The rules in use. */
  get rules(): RuleSet {
    return this.ruleSet;
  }

  setRules(ruleSet: RuleSet): void {
    this.ruleSet = ruleSet;
    this.stages?.setRules(ruleSet); // undefined only while the constructor runs
    // the constructor sets it up first; a reload may change the smallest allowedLateness
    if (this.alignment) this.alignment.boundMs = alignmentBoundOf(this.options.settings.ALIGNMENT_BOUND, ruleSet);
    this.metrics.rulesLoaded.set(ruleSet.rules.length);
    this.health.set('rules', true, `${ruleSet.rules.length} rules, version ${ruleSet.version}`);
  }

  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /**
   * Starts the HTTP endpoint at once (alive, not ready), then waits for Redis and Kafka, retrying with
   * backoff (logged, reported on /readyz) for as long as it takes or until stop() is called. Resolves
   * when the consumer runs; resolves early, without starting, if stopped meanwhile.
   */
  async start(): Promise<void> {
    const s = this.options.settings;
    if (this.options.http !== false) {
      this.http = await startHttpServer(s.HTTP_HOST, s.HTTP_PORT, this.health, this.metrics, liveRoutes(s, this.live, () => this.ruleSet));
      if (liveAccess(s) === 'refused') this.options.log.warn(`${REFUSED_MESSAGE}: /live answers 403 on HTTP_HOST ${s.HTTP_HOST}`);
    }
    // a PING still unanswered at the next tick (Redis stalled: a slow script, DEBUG SLEEP, a full
    // network buffer) makes the processor not ready, as an error would
    let pingSince = 0;
    const pingRedis = () => {
      pingSince = Date.now();
      return this.redis.ping().then(
        () => { if (!this.stopped) this.health.set('redis', true, 'PONG'); },
        (err: Error) => {
          if (!this.stopped) this.health.set('redis', false, err.message);
          throw err;
        },
      ).finally(() => { pingSince = 0; });
    };
    const watch = () => {
      const waitingMs = pingSince > 0 ? Date.now() - pingSince : 0;
      if (waitingMs > 1000) {
        if (!this.stopped && this.health.report().checks.redis.ok) this.health.set('redis', false, `no answer to PING for ${waitingMs} ms`);
      } else if (waitingMs === 0) {
        pingRedis().then(() => this.stages.watchState()).catch(() => undefined);
      }
      const silentMs = Date.now() - this.lastKafkaContact;
      // (a stuck batch holds its consumer's fetches back: the partitions check names that cause)
      if (this.joined && !this.stopped && this.stuck.size === 0 && silentMs > s.KAFKA_SESSION_TIMEOUT && this.health.report().checks.kafka.ok) {
        this.health.set('kafka', false, `no answer from the broker for ${Math.round(silentMs / 1000)}s`);
        this.options.log.warn({ silentMs }, 'Kafka not answering; not ready');
      }
    };
    let ticks = 0;
    let coordinatorLoading = coordinatorLoadingErrors();
    this.redisTimer = setInterval(() => {
      watch();
      const loading = coordinatorLoadingErrors();
      this.metrics.coordinatorLoading.inc(loading - coordinatorLoading);
      coordinatorLoading = loading;
      if (ticks++ % 3 === 0 && this.joined && !this.stopped) this.updateLag();
    }, 2000);
    this.redisTimer.unref();
    if (!readCommittedIsSafe()) {
      this.options.log.error('kafkajs was loaded before cpiwatch could fix its read-committed filter: records of aborted transactions may be read twice (load cpiwatch before kafkajs)');
    }
    if (!(await this.untilUp('redis', pingRedis))) return;
    await this.warnWithoutPersistence();
    // a quick probe first: the clients' own connect retries would hide the first failure for a minute
    if (!(await this.untilUp('kafka', () => this.probeKafka()))) return;
    if (!(await this.untilUp('kafka', () => this.stages.start()))) return;
    if (this.email && !(await this.untilUp('kafka', () => this.email!.start()))) return;
    this.options.log.info({ topic: s.EVENTS_TOPIC, groupId: s.KAFKA_GROUP_ID, rules: this.ruleSet.rules.length }, 'processor started');
  }

  /** cpiwatch_consumer_lag from the broker's end and committed offsets (every ~6 s). */
  private updateLag(): void {
    this.stages.lag().then((lags) => {
      this.metrics.lag.reset();
      for (const l of lags) this.metrics.lag.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
    }, (err: Error) => this.options.log.debug({ err: err.message }, 'consumer lag not read; next time'));
  }

  /** A Redis without an append-only file loses the state on a restart unless it snapshots (RDB). */
  private async warnWithoutPersistence(): Promise<void> {
    const info = await (this.redis as Redis).info('persistence').catch(() => '');
    const aof = /aof_enabled:(\d)/.exec(info)?.[1];
    if (aof === '0') this.options.log.warn('Redis runs without an append-only file (appendonly no): a restart loses the state unless it saves RDB snapshots; cpiwatch then stops with CPW402 (docs/operations.md, "State lost")');
  }

  private async probeKafka(): Promise<void> {
    // its own client without retries (kafkajs retries a connect from the client's settings)
    const admin = new Kafka({ ...kafkaConfig(this.options.settings, this.options.log), retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Retries `attempt` with backoff until it succeeds (true) or stop() is called (false). */
  private async untilUp(check: 'kafka' | 'redis', attempt: () => Promise<unknown>): Promise<boolean> {
    const maxMs = this.options.settings.STARTUP_RETRY_MAX;
    for (let n = 1; !this.stopped; n++) {
      try {
        await attempt();
        return !this.stopped;
      } catch (err) {
        if (this.stopped) return false;
        const retryInMs = Math.min(maxMs, 500 * 2 ** Math.min(n - 1, 10));
        const message = (err as Error).message;
        this.health.set(check, false, `unavailable (attempt ${n}): ${message}; retrying in ${retryInMs} ms`);
        this.metrics.startupRetries.inc({ dependency: check });
        this.options.log.warn({ dependency: check, attempt: n, retryInMs, err: message }, `${check} unavailable at start; retrying`);
        await Promise.race([new Promise((r) => setTimeout(r, retryInMs).unref()), this.stopRequested]);
      }
    }
    return false;
  }

  /** Graceful stop: finish the batch in flight, commit, flush the producer, close Redis. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopSignal?.();
    clearInterval(this.redisTimer);
    this.health.set('kafka', false, 'stopping');
    await Promise.all([
      this.stages.stop(),
      this.email?.stop().catch((err) => this.options.log.warn({ err }, 'e-mail worker stop failed')),
    ]);
    await this.store.close();
    await this.http?.close();
    this.options.log.info('processor stopped');
  }
}
