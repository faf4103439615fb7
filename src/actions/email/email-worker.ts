/**
 * The e-mail channel: reads the offers topic with its own consumer group and sends each offer whose
 * rule asks for e-mail through nodemailer (SMTP). It never blocks or loses the Kafka offer: offers are
 * published before this worker sees them. Idempotent on the offer id: an e-mail already sent is not
 * sent again (Redis marker), and the Message-ID is derived from the offer id so a resend after a crash
 * between send and marker can be recognised by the receiving side. A failed send is retried with
 * backoff up to a limit, then recorded as given up.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import type { Transporter } from 'nodemailer';
import { customerTag } from '../../cpis/tags.js';
import type { Logger } from '../../ops/logger.js';
import type { RedisKeys } from '../../store/redis/keys.js';
import type { FactsReader } from '../../pipeline/latest-facts.js';
import type { OfferData, WireCloudEvent } from '../offer-event.js';
import { renderEmail } from './templates.js';

export interface EmailWorkerOptions {
  kafka: Kafka;
  groupId: string;
  offersTopic: string;
  transport: Transporter;
  from: string;
  /** The customer's facts now (address, name). */
  facts: FactsReader;
  redis: Redis | Cluster;
  keys: RedisKeys;
  log: Logger;
  maxAttempts: number;
  /** Rule id -> e-mail action of the active rules (template, subject). */
  emailActions: () => ReadonlyMap<string, { template: string; subject?: string }>;
  onResult?: (result: 'sent' | 'failed' | 'gave_up' | 'duplicate' | 'no_address') => void;
  retry?: { initialMs: number; maxMs: number };
}

const SENT_TTL_MS = 90 * 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EmailWorker {
  private readonly consumer: Consumer;
  private stopping = false;

  constructor(private readonly o: EmailWorkerOptions) {
    this.consumer = o.kafka.consumer({ groupId: o.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.o.offersTopic, fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ message, heartbeat }) => {
        let offer: WireCloudEvent<OfferData>;
        try {
          offer = JSON.parse(String(message.value)) as WireCloudEvent<OfferData>;
        } catch {
          this.o.log.warn({ offset: message.offset }, 'unreadable offer on the offers topic; skipped');
          return;
        }
        if (!offer.data?.channels?.email) return;
        await this.deliver(offer, heartbeat);
      },
    });
  }

  private async deliver(offer: WireCloudEvent<OfferData>, heartbeat: () => Promise<void>): Promise<void> {
    const o = this.o;
    const key = o.keys.email(offer.id);
    if ((await o.redis.get(key)) !== null) { o.onResult?.('duplicate'); return; }
    const [facts] = await o.facts.readFacts([customerTag(offer.data.customerId)]);
    const to = typeof facts?.email === 'string' ? facts.email : undefined;
    if (!to) {
      o.log.warn({ offerId: offer.id, customerId: offer.data.customerId }, 'no e-mail address on record; e-mail not sent');
      await o.redis.set(key, 'no-address', 'PX', SENT_TTL_MS);
      o.onResult?.('no_address');
      return;
    }
    const action = o.emailActions().get(offer.data.rule.id);
    const rendered = renderEmail(action?.template ?? 'generic-offer', {
      offer: offer.data,
      ...(typeof facts?.name === 'string' ? { customerName: facts.name } : {}),
      ...(action?.subject ? { subject: action.subject } : {}),
    }) ?? renderEmail('generic-offer', { offer: offer.data })!;
    const retry = o.retry ?? { initialMs: 500, maxMs: 30_000 };
    for (let attempt = 1; ; attempt++) {
      try {
        await o.transport.sendMail({
          from: o.from,
          to,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId: `<${offer.id}@cpiwatch>`,
          headers: { 'X-Cpiwatch-Offer-Id': offer.id },
        });
        await o.redis.set(key, 'sent', 'PX', SENT_TTL_MS);
        o.log.info({ offerId: offer.id, ruleId: offer.data.rule.id, attempt }, 'offer e-mail sent');
        o.onResult?.('sent');
        return;
      } catch (err) {
        o.onResult?.('failed');
        o.log.warn({ offerId: offer.id, attempt, err: (err as Error).message }, 'offer e-mail failed');
        if (attempt >= o.maxAttempts || this.stopping) {
          if (this.stopping) throw err; // leave the offset uncommitted: retried after restart
          await o.redis.set(key, `gave-up:${(err as Error).message.slice(0, 200)}`, 'PX', SENT_TTL_MS);
          o.log.error({ offerId: offer.id, attempts: attempt }, 'offer e-mail given up');
          o.onResult?.('gave_up');
          return;
        }
        await sleep(Math.min(retry.maxMs, retry.initialMs * 2 ** (attempt - 1)));
        await heartbeat().catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }
}
