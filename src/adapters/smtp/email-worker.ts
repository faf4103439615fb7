/**
 * The e-mail channel: reads the offers topic with its own consumer group and sends each offer whose
 * rule asks for e-mail through nodemailer (SMTP). It never blocks or loses the Kafka offer: offers are
 * published before this worker sees them. Each record is parsed with the published offer schema
 * (actions/offer-schema.ts); one that does not parse is logged with CPW503, counted as `invalid` and
 * skipped. Idempotent on the offer id: an e-mail already dealt with is not sent again (the e-mail
 * state in the offer ledger, store/state-store.ts), and the Message-ID is derived from the offer id
 * so a resend after a crash between send and marker can be recognised by the receiving side. A
 * failed send (CPW501) is retried with backoff up to a limit, then recorded as given up.
 */
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Transporter } from 'nodemailer';
import type { EmailTemplates, RenderedEmail } from '../../actions/email/template-library.js';
import { renderEmail, shippedTemplates } from '../../actions/email/templates.js';
import { OFFER_EVENT_TYPE, OfferEvent } from '../../actions/offer-schema.js';
import { customerTag, tagOf } from '../../cpis/tags.js';
import { ErrorCodes } from '../../errors/codes.js';
import { messageOf } from '../../errors/cpiwatch-error.js';
import { parseJsonGuarded } from '../../events/json-guard.js';
import { formatZodIssues } from '../../events/zod-issues.js';
import type { Logger } from '../../ops/logger.js';
import type { FactsReader } from '../../pipeline/latest-facts.js';
import type { EmailState, OfferLedger } from '../../store/state-store.js';

/** What became of one offer record (label `result` of cpiwatch_emails_total). */
export type EmailResult = 'sent' | 'failed' | 'gave_up' | 'duplicate' | 'no_address' | 'invalid';

export interface EmailWorkerOptions {
  kafka: Kafka;
  groupId: string;
  offersTopic: string;
  transport: Transporter;
  from: string;
  /** The customer's facts now (address, name, locale), and the breaching store's when the scope is one. */
  facts: FactsReader;
  /** Where the e-mail state of each offer is kept (the offer ledger). */
  store: Pick<OfferLedger, 'emailState' | 'markEmail'>;
  log: Logger;
  maxAttempts: number;
  /** Rule id -> e-mail action of the active rules (template, subject). */
  emailActions: () => ReadonlyMap<string, { template: string; subject?: string }>;
  /** The active rule set's templates, parsed once per rule-set version (default: the shipped ones). */
  templates?: () => EmailTemplates | undefined;
  onResult?: (result: EmailResult) => void;
  retry?: { initialMs: number; maxMs: number };
}

type Offer = ReturnType<typeof OfferEvent.parse>;

/** How long the e-mail state of an offer is kept: no e-mail is sent twice in that time. */
const EMAIL_STATE_RETAIN_MS = 90 * 86_400_000;
/** Offers are a few objects deep; deeper JSON is not one. */
const MAX_OFFER_DEPTH = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The offer in a record of the offers topic, or why it is none. */
export function parseOffer(value: Buffer | null): { ok: true; offer: Offer } | { ok: false; reason: string } {
  if (value === null || value.length === 0) return { ok: false, reason: 'the record has no value' };
  const json = parseJsonGuarded(value, MAX_OFFER_DEPTH, 'the Kafka value', '');
  if (!json.ok) return { ok: false, reason: json.problem === 'too-deep' ? `nested deeper than ${MAX_OFFER_DEPTH} levels` : json.detail };
  const parsed = OfferEvent.safeParse(json.value);
  return parsed.success ? { ok: true, offer: parsed.data } : { ok: false, reason: formatZodIssues(parsed.error.issues, json.value, '') };
}

export class EmailWorker {
  private readonly consumer: Consumer;
  private stopping = false;

  constructor(private readonly o: EmailWorkerOptions) {
    this.consumer = o.kafka.consumer({ groupId: o.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 1000 });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.o.offersTopic, fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ partition, message, heartbeat }) => {
        const offer = this.read(partition, message);
        if (offer?.data.channels.email) await this.deliver(offer, heartbeat);
      },
    });
  }

  /** The offer of a record; a record that is none is logged (CPW503), counted and skipped. */
  private read(partition: number, message: KafkaMessage): Offer | undefined {
    const parsed = parseOffer(message.value);
    if (parsed.ok) return parsed.offer;
    const topic = this.o.offersTopic;
    this.o.log.warn(
      { code: ErrorCodes.OFFER_INVALID.code, topic, partition, offset: message.offset, reason: parsed.reason },
      messageOf('OFFER_INVALID', `${topic}[${partition}]@${message.offset}`, OFFER_EVENT_TYPE, parsed.reason),
    );
    this.o.onResult?.('invalid');
    return undefined;
  }

  private async mark(offerId: string, state: EmailState): Promise<void> {
    await this.o.store.markEmail(offerId, state, EMAIL_STATE_RETAIN_MS);
  }

  private async deliver(offer: Offer, heartbeat: () => Promise<void>): Promise<void> {
    const o = this.o;
    if ((await o.store.emailState(offer.id)) !== null) { o.onResult?.('duplicate'); return; }
    const scope = offer.data.trigger.scope;
    const byStore = scope.dimension === 'storeId';
    const [facts, store] = await o.facts.readFacts([customerTag(offer.data.customerId), ...(byStore ? [tagOf(scope.dimension, scope.value)] : [])]);
    const to = typeof facts?.email === 'string' ? facts.email : undefined;
    if (!to) {
      o.log.warn({ offerId: offer.id, customerId: offer.data.customerId }, 'no e-mail address on record; e-mail not sent');
      await this.mark(offer.id, { status: 'no-address' });
      o.onResult?.('no_address');
      return;
    }
    const rendered = this.render(offer, facts ?? {}, store ?? undefined);
    const retry = o.retry ?? { initialMs: 500, maxMs: 30_000 };
    for (let attempt = 1; ; attempt++) {
      try {
        await o.transport.sendMail({
          from: o.from,
          to,
          subject: rendered.subject,
          text: rendered.text,
          ...(rendered.html === undefined ? {} : { html: rendered.html }),
          messageId: `<${offer.id}@cpiwatch>`,
          headers: { 'X-Cpiwatch-Offer-Id': offer.id },
        });
        await this.mark(offer.id, { status: 'sent' });
        o.log.info({ offerId: offer.id, ruleId: offer.data.rule.id, attempt }, 'offer e-mail sent');
        o.onResult?.('sent');
        return;
      } catch (err) {
        const message = (err as Error).message;
        o.onResult?.('failed');
        o.log.warn({ code: ErrorCodes.EMAIL_SEND_FAILED.code, offerId: offer.id, attempt, err: message }, 'offer e-mail failed');
        if (attempt >= o.maxAttempts || this.stopping) {
          if (this.stopping) throw err; // leave the offset uncommitted: retried after restart
          await this.mark(offer.id, { status: 'gave-up', error: message });
          o.log.error({ code: ErrorCodes.EMAIL_SEND_FAILED.code, offerId: offer.id, attempts: attempt, err: message }, 'offer e-mail given up');
          o.onResult?.('gave_up');
          return;
        }
        await sleep(Math.min(retry.maxMs, retry.initialMs * 2 ** (attempt - 1)));
        await heartbeat().catch(() => undefined);
      }
    }
  }

  /**
   * The e-mail of an offer, rendered once (before any retry): the rule's template in the customer's
   * language (`locale` fact). A template that fails to render (CPW509) gives the shipped generic-offer.
   */
  private render(offer: Offer, facts: Readonly<Record<string, unknown>>, store: Readonly<Record<string, unknown>> | undefined): RenderedEmail {
    const action = this.o.emailActions().get(offer.data.rule.id);
    const input = { offer: offer.data, facts, ...(store ? { store } : {}), ...(action?.subject ? { subject: action.subject } : {}) };
    const templates = this.o.templates?.() ?? shippedTemplates();
    const name = action?.template ?? 'generic-offer';
    try {
      const mail = renderEmail(name, input, templates);
      if (mail) return mail;
    } catch (err) {
      const reason = (err as Error).message;
      this.o.log.warn({ code: ErrorCodes.TEMPLATE_RENDER_FAILED.code, offerId: offer.id, template: name, err: reason }, messageOf('TEMPLATE_RENDER_FAILED', 'e-mail', name, offer.id, reason, 'the shipped generic-offer template was used'));
    }
    return renderEmail('generic-offer', { offer: offer.data }, shippedTemplates())!;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }
}
