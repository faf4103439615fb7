/**
 * The Kafka messages of a batch's output: offers to the offers topic (keyed by customer id), every
 * decision to the decisions topic, dead letters with their original bytes and headers plus the
 * reason to the dead-letter topic; sent in the batch's transaction (exactly-once.ts).
 *
 * Sizes: the broker refuses a record batch larger than its topic's max.message.bytes with
 * MESSAGE_TOO_LARGE, and a batch retried with it fails forever. So every send is planned against
 * the topics' limits (TopicLimits reads them once per topic with describeConfigs): a dead letter
 * that would not fit is truncated (fitDeadLetter: value first, then the original headers, then the
 * key; headers say what was cut, the original size and a SHA-256 of the full value), and a batch's
 * messages go out in several sends that each fit (planSends).
 */
import { createHash } from 'node:crypto';
import kafkajs, { type Admin, type IHeaders, type Message, type TopicMessages } from 'kafkajs';

// kafkajs is CommonJS and Node's ESM loader does not see this export by name (vitest does)
const { ConfigResourceTypes } = kafkajs;
import type { Decision } from '../../actions/decision.js';
import { decisionEventOf, offerEventOf } from '../../actions/offer-event.js';
import { ErrorCodes } from '../../errors/codes.js';
import { CpiwatchError } from '../../errors/cpiwatch-error.js';
import type { Logger } from '../../ops/logger.js';
import type { DeadLetter } from '../../pipeline/types.js';
import { DLQ_HEADER_PREFIX, DLQ_HEADERS } from './dead-letters.js';

export interface SinkTopics {
  offers: string; decisions: string; deadLetters: string;
  /** The internal ops topic (the routing stage's output). */
  ops?: string;
}

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
        [DLQ_HEADERS.code]: l.code,
        [DLQ_HEADERS.reason]: reasonText(l.reason),
        [DLQ_HEADERS.topic]: l.message.origin.topic,
        [DLQ_HEADERS.partition]: String(l.message.origin.partition),
        [DLQ_HEADERS.offset]: String(l.message.origin.offset),
        [DLQ_HEADERS.time]: new Date().toISOString(),
      },
    })),
  }];
}

/** The reason header: at most 4000 characters, cut on a code point (never half a surrogate pair). */
function reasonText(reason: string): string {
  if (reason.length <= 4000) return reason;
  const cut = reason.slice(0, 4000);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

// ---------------------------------------------------------------------------------------------
// Message sizes

/** message.max.bytes of a broker left at its default: 1 MiB plus the 12-byte log overhead. */
export const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** The header of a v2 record batch (offsets, length, CRC, attributes, ids, count), counted by the broker's limit. */
export const RECORD_BATCH_OVERHEAD = 61;
/** Left free in every planned record batch: slack for the estimate (timestamps, an unknown partition's batch header). */
export const SIZE_MARGIN = 1024;
/**
 * The most one send (one produce request) carries over all topics. kafkajs has no client-side
 * max.request.size; the broker closes the connection on a request over socket.request.max.bytes
 * (104,857,600 by default), so a send stays well below it whatever the topics allow.
 */
export const REQUEST_BUDGET_BYTES = 32 * 1024 * 1024;

/** The size limit of each topic's records (max.message.bytes). */
export interface MessageLimits {
  maxMessageBytes(topic: string): Promise<number>;
}

const varintBytes = (n: number): number => {
  // zig-zag: non-negative n takes the varint of 2n; -1 (a null key or value) takes one byte
  let v = n < 0 ? 1 : n * 2;
  let bytes = 1;
  while (v >= 128) { v = Math.floor(v / 128); bytes += 1; }
  return bytes;
};
const bytesOf = (v: Buffer | string | null | undefined): number => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);
const field = (v: Buffer | string | null | undefined): number => (v == null ? varintBytes(-1) : varintBytes(bytesOf(v)) + bytesOf(v));

/** The header entries of a message as kafkajs writes them (an array value is one entry per element). */
function headerEntries(h: IHeaders | undefined): [string, Buffer | string][] {
  const out: [string, Buffer | string][] = [];
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, one]);
  }
  return out;
}

/** The bytes of the headers of a record. */
function headersBytes(h: IHeaders | undefined): number {
  let n = 0;
  for (const [k, v] of headerEntries(h)) n += field(k) + field(v);
  return n;
}

/**
 * An upper bound of the bytes one message takes in a v2 record batch: length, attributes,
 * timestamp and offset deltas (counted at their largest), key, value and headers.
 */
export function recordBytes(m: Pick<Message, 'key' | 'value' | 'headers'>): number {
  const entries = headerEntries(m.headers);
  const body = 1 + 10 + 5 + field(m.key) + field(m.value) + varintBytes(entries.length) + headersBytes(m.headers);
  return 5 + body;
}

/** The most a record may take in a batch of its own under a topic's limit (batch header and margin off). */
export function recordBudget(maxMessageBytes: number): number {
  return Math.max(0, Math.min(maxMessageBytes, REQUEST_BUDGET_BYTES) - RECORD_BATCH_OVERHEAD - SIZE_MARGIN);
}

/** What fitDeadLetter cut from a dead letter. */
export interface Truncation {
  /** What was cut, in order: the value, then the original headers, then the key. */
  parts: ('value' | 'headers' | 'key')[];
  originalBytes: number;
  keptBytes: number;
  /** SHA-256 of the full original value, hex. */
  sha256: string;
  /** The record as built and the budget it had to fit. */
  recordBytes: number;
  budgetBytes: number;
}

const asBuffer = (v: Buffer | string | null | undefined): Buffer | null => (v == null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/**
 * A dead letter that fits in `budget` bytes (recordBudget of its topic's limit): as it is when it
 * fits; else the first bytes of its value that leave room for the headers, with headers saying it
 * was truncated, the original size and a SHA-256 of the full value. Should the headers and key alone
 * not fit (a hostile producer's megabyte of headers), the original headers are dropped (their count
 * in a header), then the key cut. The origin headers stay, so the original can be read again from
 * the source topic while its retention lasts.
 */
export function fitDeadLetter(m: Message, budget: number): { message: Message; truncation?: Truncation } {
  const size = recordBytes(m);
  if (size <= budget) return { message: m };
  const value = asBuffer(m.value);
  const original = value?.length ?? 0;
  const sha256 = createHash('sha256').update(value ?? Buffer.alloc(0)).digest('hex');
  const parts: Truncation['parts'] = ['value'];
  const dlq: IHeaders = {};
  const own: IHeaders = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    if (k.startsWith(DLQ_HEADER_PREFIX)) dlq[k] = v; else own[k] = v;
  }
  const marks = (dropped?: number, keyBytes?: number): IHeaders => ({
    [DLQ_HEADERS.truncated]: parts.join(','),
    [DLQ_HEADERS.originalSize]: String(original),
    [DLQ_HEADERS.sha256]: sha256,
    ...(dropped !== undefined ? { [DLQ_HEADERS.droppedHeaders]: String(dropped) } : {}),
    ...(keyBytes !== undefined ? { [DLQ_HEADERS.originalKeySize]: String(keyBytes) } : {}),
  });
  // the room left for the value, with the value's length field counted at its largest (5 bytes)
  const room = (msg: Pick<Message, 'key' | 'headers'>): number => budget - recordBytes({ ...msg, value: null }) + varintBytes(-1) - 5;
  let key = m.key ?? null;
  let headers: IHeaders = { ...own, ...dlq, ...marks() };
  if (room({ key, headers }) < 0) {
    parts.push('headers');
    headers = { ...dlq, ...marks(headerEntries(own).length) };
  }
  if (room({ key, headers }) < 0) {
    parts.push('key');
    const k = asBuffer(key) ?? Buffer.alloc(0);
    headers = { ...dlq, ...marks(headerEntries(own).length, k.length) };
    // at most 1 KiB of the key: the value's first bytes say more
    key = k.subarray(0, Math.max(0, Math.min(1024, room({ key: null, headers }) - 5)));
  }
  const kept = Math.max(0, Math.min(original, room({ key, headers })));
  const message: Message = { ...m, key, value: value === null ? null : value.subarray(0, kept), headers };
  return { message, truncation: { parts, originalBytes: original, keptBytes: kept, sha256, recordBytes: size, budgetBytes: budget } };
}

/** Whether a message is a dead letter (deadLetterMessages built it; incoming cpiwatch-dlq-* headers are dropped there). */
export function isDeadLetter(m: Message): boolean {
  return m.headers?.[DLQ_HEADERS.code] !== undefined;
}

/**
 * Splits a batch's messages into sends (one kafkajs sendBatch each, all in the same transaction
 * when there is one) so that no record batch exceeds its topic's limit: per send, the records of a
 * topic take at most its recordBudget in total (counted per topic, not per partition: the partition
 * is the partitioner's choice, so all of them might land on one), and all topics together at most
 * REQUEST_BUDGET_BYTES. Order within a topic is kept, so each partition's order is too. A record
 * over its budget on its own gets a send of its own (only fitDeadLetter can make it fit).
 */
export function planSends(topicMessages: TopicMessages[], budgetOf: (topic: string) => number, requestBudget = REQUEST_BUDGET_BYTES): TopicMessages[][] {
  const chunksByTopic: { topic: string; chunks: { messages: Message[]; bytes: number }[] }[] = [];
  for (const { topic, messages } of topicMessages) {
    let entry = chunksByTopic.find((t) => t.topic === topic);
    if (!entry) chunksByTopic.push(entry = { topic, chunks: [] });
    const budget = Math.min(budgetOf(topic), requestBudget);
    for (const m of messages) {
      const size = recordBytes(m);
      const last = entry.chunks.at(-1);
      if (last && last.bytes + size <= budget) { last.messages.push(m); last.bytes += size; }
      else entry.chunks.push({ messages: [m], bytes: size });
    }
  }
  const sends: TopicMessages[][] = [];
  const rounds = Math.max(0, ...chunksByTopic.map((t) => t.chunks.length));
  for (let i = 0; i < rounds; i++) {
    let send: TopicMessages[] = [];
    let bytes = 0;
    for (const t of chunksByTopic) {
      const chunk = t.chunks[i];
      if (!chunk) continue;
      if (send.length > 0 && bytes + chunk.bytes > requestBudget) { sends.push(send); send = []; bytes = 0; }
      send.push({ topic: t.topic, messages: chunk.messages });
      bytes += chunk.bytes;
    }
    if (send.length > 0) sends.push(send);
  }
  return sends;
}

/**
 * Dead letters fitted to their topic's limit, then the sends of planSends. Each truncation is logged
 * as a warning with code CPW602 (DEAD_LETTER_TRUNCATED) and the letter's origin.
 */
export async function sizedSends(topicMessages: TopicMessages[], limits: MessageLimits, log?: Logger): Promise<{ sends: TopicMessages[][]; truncated: number }> {
  const names = [...new Set(topicMessages.map((t) => t.topic))];
  const budgets = new Map(await Promise.all(names.map(async (topic) => [topic, recordBudget(await limits.maxMessageBytes(topic))] as const)));
  let truncated = 0;
  const fitted = topicMessages.map((t) => {
    const budget = budgets.get(t.topic)!;
    return {
      topic: t.topic,
      messages: t.messages.map((m) => {
        if (!isDeadLetter(m)) {
          if (recordBytes(m) > budget) throw oversized(t.topic, recordBytes(m), budget);
          return m;
        }
        const { message, truncation } = fitDeadLetter(m, budget);
        if (truncation) {
          truncated += 1;
          const h = (name: string) => String(m.headers?.[name] ?? '');
          const err = new CpiwatchError('DEAD_LETTER_TRUNCATED', [`${h(DLQ_HEADERS.topic)}[${h(DLQ_HEADERS.partition)}]@${h(DLQ_HEADERS.offset)}`, truncation.recordBytes, budget, t.topic, truncation.keptBytes, truncation.originalBytes]);
          // fields from the documented safe list only (docs/operations.md, Logs); sizes are in the message
          log?.warn({ code: err.code, topic: h(DLQ_HEADERS.topic), partition: Number(h(DLQ_HEADERS.partition)), offset: Number(h(DLQ_HEADERS.offset)) }, err.message);
        }
        return message;
      }),
    };
  });
  return { sends: planSends(fitted, (topic) => budgets.get(topic)!), truncated };
}

function oversized(topic: string, bytes: number, budget: number): CpiwatchError {
  return new CpiwatchError('KAFKA_RECORD_REJECTED', [topic, `a record of ${bytes} bytes, more than the ${budget} bytes a record may take on the topic (max.message.bytes)`]);
}

/**
 * Output records their topic cannot take, as dead letters of the output itself (CPW604, the record
 * as the letter's value, `origin` as where it was made): a decision too big for its topic is kept on
 * the dead-letter topic instead of failing the batch forever. Returns what fits and the letters.
 */
export async function divertOversized(topicMessages: TopicMessages[], limits: MessageLimits, origin: DeadLetter['message']['origin']): Promise<{ fit: TopicMessages[]; letters: (DeadLetter & { topic: string })[] }> {
  const fit: TopicMessages[] = [];
  const letters: (DeadLetter & { topic: string })[] = [];
  for (const t of topicMessages) {
    const budget = recordBudget(await limits.maxMessageBytes(t.topic));
    const kept = t.messages.filter((m) => {
      if (recordBytes(m) <= budget) return true;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      letters.push({
        topic: t.topic,
        message: { key: m.key == null ? null : Buffer.from(m.key), value: m.value == null ? null : Buffer.from(m.value), headers, origin },
        code: ErrorCodes.KAFKA_RECORD_REJECTED.code,
        reason: oversized(t.topic, recordBytes(m), budget).message,
      });
      return false;
    });
    if (kept.length > 0) fit.push({ topic: t.topic, messages: kept });
  }
  return { fit, letters };
}

/**
 * Throws CPW604 (KAFKA_RECORD_REJECTED, not retriable) for a record, other than a dead letter
 * (fitDeadLetter makes those fit), that its topic cannot take: before anything of the batch is
 * journalled or sent, so the consumer isolates the input that made it.
 */
export async function refuseOversized(topicMessages: TopicMessages[], limits: MessageLimits): Promise<void> {
  for (const t of topicMessages) {
    if (t.messages.length === 0) continue;
    const budget = recordBudget(await limits.maxMessageBytes(t.topic));
    for (const m of t.messages) if (!isDeadLetter(m) && recordBytes(m) > budget) throw oversized(t.topic, recordBytes(m), budget);
  }
}

/**
 * max.message.bytes of each topic, read from the broker with describeConfigs the first time a topic
 * is sent to and kept. When the broker cannot say (no DescribeConfigs permission, a topic not
 * created yet, the broker unreachable), the broker default 1,048,588 is used (logged once) and
 * asked again after `retryMs`.
 */
export class TopicLimits implements MessageLimits {
  private readonly known = new Map<string, { bytes: number; until: number }>();
  private readonly asking = new Map<string, Promise<number>>();

  constructor(private readonly admin: () => Admin, private readonly o: { log?: Logger; retryMs?: number; fallbackBytes?: number } = {}) {}

  maxMessageBytes(topic: string): Promise<number> {
    const k = this.known.get(topic);
    if (k && k.until > Date.now()) return Promise.resolve(k.bytes);
    let p = this.asking.get(topic);
    if (!p) {
      p = this.describe(topic).finally(() => this.asking.delete(topic));
      this.asking.set(topic, p);
    }
    return p;
  }

  private async describe(topic: string): Promise<number> {
    const fallback = this.o.fallbackBytes ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES;
    const admin = this.admin();
    try {
      await admin.connect();
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }] });
      const r = resources.find((x) => x.resourceName === topic);
      const value = Number(r?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
      if (!r || r.errorCode !== 0 || !Number.isInteger(value) || value <= 0) throw new Error(r?.errorMessage || `no max.message.bytes for ${topic}`);
      this.known.set(topic, { bytes: value, until: Number.POSITIVE_INFINITY });
      this.o.log?.info({ topic }, `max.message.bytes of the topic: ${value}`);
      return value;
    } catch (err) {
      if (!this.known.has(topic)) this.o.log?.warn({ topic, err: (err as Error).message }, `could not read max.message.bytes of a topic; using the broker default ${fallback}`);
      this.known.set(topic, { bytes: fallback, until: Date.now() + (this.o.retryMs ?? 60_000) });
      return fallback;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

function copyHeaders(h: DeadLetter['message']['headers']): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined || k.startsWith(DLQ_HEADER_PREFIX)) continue;
    out[k] = Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : Buffer.from(x))) : v;
  }
  return out;
}
