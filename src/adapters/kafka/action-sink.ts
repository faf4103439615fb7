/**
 * Publishes decisions and dead letters to Kafka: offers to the offers topic (keyed by customer id),
 * every decision to the decisions topic, dead letters with their original bytes and headers plus the
 * reason to the dead-letter topic. The idempotent producer waits for all in-sync replicas.
 * The message builders are shared with the transactional path (exactly-once.ts).
 */
import type { IHeaders, Message, Producer, TopicMessages } from 'kafkajs';
import type { Decision } from '../../actions/decision.js';
import { decisionEventOf, offerEventOf } from '../../actions/offer-event.js';
import type { ActionSink, DeadLetter } from '../../pipeline/types.js';

export interface SinkTopics { offers: string; decisions: string; deadLetters: string }

const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

/** Offers (the offered decisions) and every decision, as Kafka messages per topic. */
export function decisionMessages(decisions: Decision[], topics: SinkTopics): TopicMessages[] {
  const offers: Message[] = [];
  const records: Message[] = [];
  for (const d of decisions) {
    const headers: IHeaders = { 'content-type': CE_JSON, ...(d.traceparent ? { traceparent: d.traceparent } : {}) };
    if (d.outcome === 'offered') offers.push({ key: d.customerId, value: JSON.stringify(offerEventOf(d)), headers });
    records.push({ key: d.customerId, value: JSON.stringify(decisionEventOf(d)), headers });
  }
  return [
    ...(offers.length ? [{ topic: topics.offers, messages: offers }] : []),
    ...(records.length ? [{ topic: topics.decisions, messages: records }] : []),
  ];
}

/** Dead letters with their original key, bytes and headers, plus the reason and origin headers. */
export function deadLetterMessages(letters: DeadLetter[], topics: SinkTopics): TopicMessages[] {
  if (letters.length === 0) return [];
  return [{
    topic: topics.deadLetters,
    messages: letters.map((l) => ({
      key: l.message.key ?? null,
      value: l.message.value,
      headers: {
        ...copyHeaders(l.message.headers),
        'cpiwatch-dlq-code': l.code,
        'cpiwatch-dlq-reason': l.reason.slice(0, 4000),
        'cpiwatch-dlq-topic': l.message.origin.topic,
        'cpiwatch-dlq-partition': String(l.message.origin.partition),
        'cpiwatch-dlq-offset': String(l.message.origin.offset),
        'cpiwatch-dlq-time': new Date().toISOString(),
      },
    })),
  }];
}

export class KafkaActionSink implements ActionSink {
  constructor(private readonly producer: Producer, private readonly topics: SinkTopics) {}

  async publish(decisions: Decision[]): Promise<void> {
    const topicMessages = decisionMessages(decisions, this.topics);
    if (topicMessages.length > 0) await this.producer.sendBatch({ acks: -1, topicMessages });
  }

  async deadLetter(letters: DeadLetter[]): Promise<void> {
    const topicMessages = deadLetterMessages(letters, this.topics);
    if (topicMessages.length > 0) await this.producer.sendBatch({ acks: -1, topicMessages });
  }
}

function copyHeaders(h: DeadLetter['message']['headers']): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined || k.startsWith('cpiwatch-dlq-')) continue;
    out[k] = Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : Buffer.from(x))) : v;
  }
  return out;
}
