// Sizing the output against the broker's limits (action-sink.ts): the record-size estimate is an
// upper bound of what kafkajs encodes, a dead letter too big for its topic is truncated to fit with
// headers that say so, and a batch's messages are split into sends whose record batches each fit.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import {
  BROKER_DEFAULT_MAX_MESSAGE_BYTES, REQUEST_BUDGET_BYTES, TopicLimits, deadLetterMessages, fitDeadLetter, planSends,
  recordBudget, recordBytes, sizedSends, type MessageLimits,
} from '../../../src/adapters/kafka/action-sink.js';
import { deadLetterOf } from '../../../src/adapters/kafka/dead-letters.js';
import { SETTINGS } from '../../../src/config/settings.js';
import type { DeadLetter } from '../../../src/pipeline/types.js';

const require = createRequire(import.meta.url);
// kafkajs's own encoders: the bytes the broker measures against max.message.bytes
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: { records: unknown[] }) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: { offsetDelta: number; timestampDelta: number; key: Buffer | string | null; value: Buffer | string | null; headers: unknown }) => unknown;

/** The size of the record batch kafkajs would send for these messages (one partition). */
async function batchBytes(messages: Message[]): Promise<number> {
  const now = Date.now();
  const records = messages.map((m, i) => Record({ offsetDelta: i, timestampDelta: i * 7, key: m.key ?? null, value: m.value, headers: m.headers ?? {} }));
  return (await RecordBatch({ records, firstTimestamp: now, maxTimestamp: now } as never)).buffer.length;
}

const topics = { offers: 'o', decisions: 'd', deadLetters: 'dlq' };
const originalHeaders = { 'content-type': 'application/cloudevents+json', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-producer': 'pos-7' };

function letter(value: Buffer | null, offset = 42, code: DeadLetter['code'] = 'CPW200', extra: Partial<DeadLetter['message']> = {}): DeadLetter {
  return {
    code,
    reason: `CPW200 event value is not valid JSON: Unexpected token in JSON at position 0 (${'x'.repeat(200)})`,
    message: { key: Buffer.from('customer-1'), value, headers: originalHeaders, origin: { topic: 'cpiwatch.events', partition: 3, offset }, ...extra },
  };
}

const dlqMessage = (l: DeadLetter): Message => deadLetterMessages([l], topics)[0]!.messages[0]!;
const header = (m: Message, name: string) => String(m.headers?.[name]);

describe('recordBytes', () => {
  it('is an upper bound of the encoded size, within 20 bytes a record', async () => {
    const cases: Message[] = [
      { key: null, value: null },
      { key: 'k', value: 'v', headers: { a: 'b', c: ['d', 'e'] } },
      { key: Buffer.from('客户1'), value: 'josé—20 😀'.repeat(50), headers: { 'ü': Buffer.from([0xff, 0xfe]) } },
      dlqMessage(letter(Buffer.alloc(300_000, 0x41))),
      ...Array.from({ length: 200 }, (_, i) => dlqMessage(letter(Buffer.alloc(i * 37, 0x42), i))),
    ];
    for (const m of cases) {
      const actual = (await batchBytes([m])) - 61;
      expect(recordBytes(m)).toBeGreaterThanOrEqual(actual);
      expect(recordBytes(m) - actual).toBeLessThanOrEqual(20);
    }
    const all = cases.reduce((n, m) => n + recordBytes(m), 61);
    expect(all).toBeGreaterThanOrEqual(await batchBytes(cases));
  });
});

describe('fitDeadLetter', () => {
  const budget = recordBudget(BROKER_DEFAULT_MAX_MESSAGE_BYTES);

  it('leaves a letter that fits as it is', () => {
    const m = dlqMessage(letter(Buffer.from('{"not json')));
    const { message, truncation } = fitDeadLetter(m, budget);
    expect(truncation).toBeUndefined();
    expect(message).toBe(m);
  });

  it('truncates a 1,048,400-byte value to fit a default topic, with size, hash and origin headers', async () => {
    const value = Buffer.alloc(1_048_400);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
    const m = dlqMessage(letter(value, 77, 'CPW204'));
    expect(recordBytes(m)).toBeGreaterThan(budget);
    const { message, truncation } = fitDeadLetter(m, budget);
    expect(truncation).toMatchObject({ parts: ['value'], originalBytes: 1_048_400, sha256: createHash('sha256').update(value).digest('hex') });
    expect(recordBytes(message)).toBeLessThanOrEqual(budget);
    // what the broker measures: under the limit, and not by much more than the margin
    const sent = await batchBytes([message]);
    expect(sent).toBeLessThanOrEqual(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    expect(sent).toBeGreaterThan(BROKER_DEFAULT_MAX_MESSAGE_BYTES - 1100);
    const kept = message.value as Buffer;
    expect(kept.length).toBe(truncation!.keptBytes);
    expect(kept.equals(value.subarray(0, kept.length))).toBe(true);
    expect(kept.length).toBeGreaterThan(1_040_000);
    expect(header(message, 'cpiwatch-dlq-truncated')).toBe('value');
    expect(header(message, 'cpiwatch-dlq-original-size')).toBe('1048400');
    expect(header(message, 'cpiwatch-dlq-sha256')).toBe(truncation!.sha256);
    expect(header(message, 'cpiwatch-dlq-offset')).toBe('77');
    expect(header(message, 'cpiwatch-dlq-code')).toBe('CPW204');
    expect(header(message, 'x-producer')).toBe('pos-7');
    expect(message.key).toEqual(Buffer.from('customer-1'));
  });

  it('a 10 MB value on an events topic allowing 16 MB, default dead-letter topic: truncated to fit 1,048,588', async () => {
    const value = Buffer.alloc(10 * 1024 * 1024, 0x7b);
    // with the default MAX_EVENT_BYTES it is dead-lettered as too large (CPW204) ...
    expect(SETTINGS.MAX_EVENT_BYTES.schema.parse(undefined)).toBeLessThan(value.length);
    const m = dlqMessage(letter(value, 9, 'CPW204'));
    const { message, truncation } = fitDeadLetter(m, budget);
    // ... and its letter fits the default dead-letter topic
    expect(await batchBytes([message])).toBeLessThanOrEqual(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    expect(truncation!.originalBytes).toBe(10 * 1024 * 1024);
    // on a dead-letter topic allowing 16 MB as well, it goes whole
    expect(fitDeadLetter(m, recordBudget(16 * 1024 * 1024)).truncation).toBeUndefined();
  });

  it('drops the original headers, then cuts the key, when they alone do not fit', async () => {
    const hugeHeaders = { a: 'x'.repeat(600_000), b: ['y'.repeat(600_000), 'z'] };
    const m1 = dlqMessage(letter(Buffer.from('small'), 1, 'CPW200', { headers: hugeHeaders }));
    const f1 = fitDeadLetter(m1, budget);
    expect(f1.truncation!.parts).toEqual(['value', 'headers']);
    expect(recordBytes(f1.message)).toBeLessThanOrEqual(budget);
    expect(f1.message.value).toEqual(Buffer.from('small'));
    expect(header(f1.message, 'cpiwatch-dlq-dropped-headers')).toBe('3');
    expect(f1.message.headers?.a).toBeUndefined();
    expect(header(f1.message, 'cpiwatch-dlq-topic')).toBe('cpiwatch.events');

    const m2 = dlqMessage(letter(Buffer.alloc(2000, 0x61), 2, 'CPW200', { key: Buffer.alloc(2_000_000, 0x6b) }));
    const f2 = fitDeadLetter(m2, budget);
    expect(f2.truncation!.parts).toEqual(['value', 'headers', 'key']);
    expect((f2.message.key as Buffer).length).toBe(1024);
    expect((f2.message.value as Buffer).length).toBe(2000);
    expect(header(f2.message, 'cpiwatch-dlq-original-key-size')).toBe('2000000');
    expect(await batchBytes([f2.message])).toBeLessThanOrEqual(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
  });

  it('a null value stays null', () => {
    const m = dlqMessage(letter(null, 5, 'CPW200', { key: Buffer.alloc(1_200_000) }));
    const { message } = fitDeadLetter(m, budget);
    expect(message.value).toBeNull();
    expect(recordBytes(message)).toBeLessThanOrEqual(budget);
  });

  it('deadLetterOf reads the truncation headers back', () => {
    const { message } = fitDeadLetter(dlqMessage(letter(Buffer.alloc(1_100_000, 1), 8, 'CPW204')), budget);
    const headers = Object.fromEntries(Object.entries(message.headers!).map(([k, v]) => [k, Buffer.from(String(v))]));
    const read = deadLetterOf(0, { key: message.key as Buffer, value: message.value as Buffer, headers, offset: '3' } as unknown as KafkaMessage);
    expect(read.truncated).toEqual({ parts: ['value'], originalSize: 1_100_000, sha256: header(message, 'cpiwatch-dlq-sha256') });
    expect(Object.keys(read.headers).sort()).toEqual(Object.keys(originalHeaders).sort());
    expect(read.origin).toEqual({ topic: 'cpiwatch.events', partition: 3, offset: 8 });
    const whole = deadLetterOf(0, { key: null, value: Buffer.from('x'), headers: {}, offset: '4' } as unknown as KafkaMessage);
    expect(whole.truncated).toBeUndefined();
  });
});

describe('planSends', () => {
  it('splits 3,000 small letters (about 1 MB of letters) into record batches that each fit, in order', async () => {
    const letters = Array.from({ length: 3000 }, (_, i) => letter(Buffer.from(JSON.stringify({ specversion: '1.0', id: `e-${i}`, source: 'urn:t', type: 'curbside.teleported', data: {} })), i, 'CPW202'));
    const tm = deadLetterMessages(letters, topics);
    const total = tm[0]!.messages.reduce((n, m) => n + recordBytes(m), 0);
    expect(total).toBeGreaterThan(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    const sends = planSends(tm, () => recordBudget(BROKER_DEFAULT_MAX_MESSAGE_BYTES));
    expect(sends.length).toBeGreaterThanOrEqual(2);
    const flat = sends.flatMap((s) => s.flatMap((t) => t.messages));
    expect(flat).toEqual(tm[0]!.messages);
    for (const s of sends) {
      expect(s).toHaveLength(1);
      expect(await batchBytes(s[0]!.messages)).toBeLessThanOrEqual(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    }
  });

  it('budgets each topic by its own limit, and the request as a whole', () => {
    const msg = (n: number): Message => ({ key: 'k', value: Buffer.alloc(n) });
    const input: TopicMessages[] = [
      { topic: 'small', messages: Array.from({ length: 10 }, () => msg(300)) },
      { topic: 'big', messages: Array.from({ length: 10 }, () => msg(300)) },
      { topic: 'small', messages: [msg(300)] },
    ];
    const limits: Record<string, number> = { small: 1000, big: 100_000 };
    const sends = planSends(input, (t) => limits[t]!, 4000);
    for (const s of sends) {
      expect(s.reduce((n, t) => n + t.messages.reduce((a, m) => a + recordBytes(m), 0), 0)).toBeLessThanOrEqual(4000);
      for (const t of s) expect(t.messages.reduce((a, m) => a + recordBytes(m), 0)).toBeLessThanOrEqual(limits[t.topic]!);
    }
    const of = (topic: string) => sends.flatMap((s) => s.filter((t) => t.topic === topic).flatMap((t) => t.messages));
    expect(of('small')).toEqual([...input[0]!.messages, ...input[2]!.messages]);
    expect(of('big')).toEqual(input[1]!.messages);
    // a record over its budget goes alone (only a dead letter can be made to fit)
    const alone = planSends([{ topic: 'small', messages: [msg(10), msg(5000), msg(10)] }], () => 1000);
    expect(alone.map((s) => s[0]!.messages.length)).toEqual([1, 1, 1]);
    expect(planSends([], () => 1000)).toEqual([]);
    expect(REQUEST_BUDGET_BYTES).toBeLessThan(104_857_600);
  });
});

describe('sizedSends', () => {
  it('fits the dead letters, leaves other messages, and logs each truncation with CPW602', async () => {
    const warn = vi.fn();
    const log = { warn, error: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const limits: MessageLimits = { maxMessageBytes: async (t) => (t === 'dlq' ? BROKER_DEFAULT_MAX_MESSAGE_BYTES : 16 * 1024 * 1024) };
    const tm: TopicMessages[] = [
      { topic: 'd', messages: [{ key: 'c', value: 'x'.repeat(1_200_000) }] },
      ...deadLetterMessages([letter(Buffer.alloc(1_048_400, 2), 11, 'CPW204'), letter(Buffer.from('bad'), 12)], topics),
    ];
    const { sends, truncated } = await sizedSends(tm, limits, log as never);
    expect(truncated).toBe(1);
    const out = sends.flatMap((s) => s.flatMap((t) => t.messages.map((m) => ({ topic: t.topic, m }))));
    expect(out.filter((o) => o.topic === 'd')[0]!.m).toBe(tm[0]!.messages[0]);
    const dl = out.filter((o) => o.topic === 'dlq').map((o) => o.m);
    expect(dl.map((m) => header(m, 'cpiwatch-dlq-offset'))).toEqual(['11', '12']);
    expect(header(dl[0]!, 'cpiwatch-dlq-truncated')).toBe('value');
    expect(dl[1]!.headers?.['cpiwatch-dlq-truncated']).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    const [fields, text] = warn.mock.calls[0]!;
    expect(fields).toEqual({ code: 'CPW602', topic: 'cpiwatch.events', partition: 3, offset: 11 });
    expect(text).toMatch(/^CPW602 dead letter of cpiwatch\.events\[3\]@11 truncated: \d+ bytes as a record, more than the 1047503 bytes a record may take on dlq; kept \d+ of 1048400 bytes of the value$/);
  });
});

describe('TopicLimits', () => {
  const admin = (describe: () => Promise<unknown>) => ({ connect: vi.fn(async () => undefined), disconnect: vi.fn(async () => undefined), describeConfigs: vi.fn(describe) });

  it('reads max.message.bytes once per topic', async () => {
    const a = admin(async () => ({ resources: [{ resourceName: 'dlq', errorCode: 0, errorMessage: null, configEntries: [{ configName: 'max.message.bytes', configValue: '16777216' }] }] }));
    const limits = new TopicLimits(() => a as never);
    const [x, y] = await Promise.all([limits.maxMessageBytes('dlq'), limits.maxMessageBytes('dlq')]);
    expect([x, y, await limits.maxMessageBytes('dlq')]).toEqual([16_777_216, 16_777_216, 16_777_216]);
    expect(a.describeConfigs).toHaveBeenCalledTimes(1);
    expect(a.disconnect).toHaveBeenCalledTimes(1);
  });

  it('falls back to the broker default, warns once, and asks again later', async () => {
    let fail = true;
    const a = admin(async () => {
      if (fail) throw new Error('TOPIC_AUTHORIZATION_FAILED');
      return { resources: [{ resourceName: 't', errorCode: 0, configEntries: [{ configName: 'max.message.bytes', configValue: '2000000' }] }] };
    });
    const warn = vi.fn();
    const limits = new TopicLimits(() => a as never, { log: { warn, info: vi.fn() } as never, retryMs: 30 });
    expect(await limits.maxMessageBytes('t')).toBe(1_048_588);
    expect(await limits.maxMessageBytes('t')).toBe(1_048_588);
    expect(a.describeConfigs).toHaveBeenCalledTimes(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(await limits.maxMessageBytes('t')).toBe(1_048_588);
    expect(warn).toHaveBeenCalledTimes(1);
    fail = false;
    await new Promise((r) => setTimeout(r, 40));
    expect(await limits.maxMessageBytes('t')).toBe(2_000_000);
  });
});
