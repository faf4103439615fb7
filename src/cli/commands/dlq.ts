/**
 * `cpiwatch dlq list|replay`: inspect the dead-letter topic, and re-publish dead letters (original
 * key, bytes and headers, without the cpiwatch-dlq-* headers) once the cause is fixed.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from 'kafkajs';
import { readDeadLetters, type DeadLetterRecord } from '../../adapters/kafka/dead-letters.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { loadSettings } from '../../config/settings.js';
import { createLogger } from '../../ops/logger.js';
import { defineCommand, usageError } from '../flags.js';

function valueText(b: Buffer | null): string {
  if (b === null) return 'null';
  return isUtf8(b) ? b.toString('utf8') : `base64:${b.toString('base64')}`;
}

function headerTexts(h: DeadLetterRecord['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) out[k] = valueText(Buffer.isBuffer(one) ? one : Buffer.from(String(one)));
  }
  return out;
}

function describe(l: DeadLetterRecord, topic: string): string {
  const origin = l.origin ? `${l.origin.topic}[${l.origin.partition}]@${l.origin.offset}` : 'unknown origin';
  const value = valueText(l.value);
  const preview = value.length > 160 ? `${value.slice(0, 160)}... (${l.value?.length ?? 0} bytes)` : value;
  return `${topic}[${l.partition}]@${l.offset}  ${l.code}  from ${origin}  ${l.time ?? ''}\n  reason: ${l.reason}\n  key: ${l.key === null ? 'null' : valueText(l.key)}  value: ${preview}`;
}

function toJson(l: DeadLetterRecord): Record<string, unknown> {
  return {
    partition: l.partition, offset: l.offset, code: l.code, reason: l.reason, origin: l.origin, time: l.time,
    key: l.key === null ? null : valueText(l.key), value: valueText(l.value), headers: headerTexts(l.headers),
  };
}

export const dlqCommand = defineCommand({
  name: 'dlq',
  usage: [
    'cpiwatch dlq list   [--topic <dlq>] [--code <CPWnnn>] [--limit <n>] [--format text|json]',
    'cpiwatch dlq replay [--topic <dlq>] [--code <CPWnnn>] [--limit <n>] [--to <topic>]',
    '                    [--group <id>] [--dry-run]',
  ],
  description: `Dead letters are events cpiwatch could not process (not JSON, not a CloudEvent, an unknown type,
data failing its schema, ...): the original key, bytes and headers plus cpiwatch-dlq-code, -reason,
-topic, -partition, -offset and -time headers. Codes are listed in docs/errors.md.

list     prints the dead letters on the topic (default DLQ_TOPIC), oldest first; reads only.
replay   re-publishes them to --to (default EVENTS_TOPIC) with their original key, bytes and
         headers, after the cause has been fixed (a rule or event type added, a producer fixed).
         Progress is committed under the consumer group --group (default
         <KAFKA_GROUP_ID>-dlq-replay): a second replay with the same group continues after the
         last letter replayed, so nothing is replayed twice. Letters skipped by --code are passed
         over for that group too; use another --group to replay them later.
         --dry-run prints what would be replayed and commits nothing.`,
  options: {
    topic: { type: 'string', value: 'dlq', description: 'the dead-letter topic (default: DLQ_TOPIC)' },
    code: { type: 'string', value: 'CPWnnn', description: 'only the dead letters with this code (any case)' },
    limit: { type: 'positive-integer', description: 'at most this many dead letters (default: all)' },
    format: { type: 'string', choices: ['text', 'json'], default: 'text', description: 'list: text for people, json for tools' },
    to: { type: 'string', value: 'topic', description: 'replay: the topic to re-publish to (default: EVENTS_TOPIC)' },
    group: { type: 'string', value: 'id', description: 'replay: the consumer group of its progress (default: <KAFKA_GROUP_ID>-dlq-replay)' },
    'dry-run': { type: 'boolean', description: 'replay: print what would be replayed, publish and commit nothing' },
  },
  args: { name: 'list|replay', min: 1, max: 1, missing: 'give a sub-command: list or replay' },
}, async (values, [sub], io) => {
  if (sub !== 'list' && sub !== 'replay') throw usageError(`unknown sub-command "${sub}" (list or replay)`);
  const settings = loadSettings(process.env);
  const args = {
    topic: values.topic ?? settings.DLQ_TOPIC,
    code: values.code?.toUpperCase(),
    limit: values.limit ?? Number.POSITIVE_INFINITY,
    format: values.format,
    to: values.to ?? settings.EVENTS_TOPIC,
    group: values.group ?? `${settings.KAFKA_GROUP_ID}-dlq-replay`,
    dryRun: values['dry-run'],
  };
  const log = createLogger(settings.LOG_LEVEL === 'info' ? 'warn' : settings.LOG_LEVEL);
  const kafka = createKafka(settings, log);
  const matches = (l: DeadLetterRecord) => !args.code || l.code === args.code;

  if (sub === 'list') {
    const found: DeadLetterRecord[] = [];
    await readDeadLetters(kafka, args.topic, {
      onBatch: async (letters) => {
        let taken = 0;
        for (const l of letters) {
          if (found.length >= args.limit) break;
          if (matches(l)) found.push(l);
          taken += 1;
        }
        return taken;
      },
    });
    if (args.format === 'json') io.stdout(JSON.stringify(found.map(toJson), null, 2));
    else {
      for (const l of found) io.stdout(describe(l, args.topic));
      io.stderr(`${found.length} dead letter(s) on ${args.topic}${args.code ? ` with code ${args.code}` : ''}`);
    }
    return 0;
  }

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  if (!args.dryRun) await producer.connect();
  let replayed = 0;
  let skipped = 0;
  try {
    await readDeadLetters(kafka, args.topic, {
      ...(args.dryRun ? {} : { groupId: args.group, commit: true }),
      onBatch: async (letters) => {
        const out: Message[] = [];
        let taken = 0;
        for (const l of letters) {
          if (replayed + out.length >= args.limit) break;
          taken += 1;
          if (!matches(l)) { skipped += 1; continue; }
          out.push({ key: l.key, value: l.value, headers: l.headers });
          if (args.dryRun) io.stdout(`would replay ${describe(l, args.topic)}`);
        }
        if (out.length > 0 && !args.dryRun) await producer.send({ topic: args.to, acks: -1, messages: out });
        replayed += out.length;
        return taken;
      },
    });
  } finally {
    if (!args.dryRun) await producer.disconnect();
  }
  io.stderr(`${args.dryRun ? 'would replay' : 'replayed'} ${replayed} dead letter(s) from ${args.topic} to ${args.to}${skipped ? ` (${skipped} with another code passed over)` : ''}`);
  return 0;
});
