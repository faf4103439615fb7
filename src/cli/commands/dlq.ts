/**
 * `cpiwatch dlq list|replay`: inspect the dead-letter topic, and re-publish dead letters (original
 * key, bytes and headers, without the cpiwatch-dlq-* headers) once the cause is fixed.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from 'kafkajs';
import { readDeadLetters, type DeadLetterRecord } from '../../adapters/kafka/dead-letters.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { loadSettings } from '../../config/settings.js';
import { CpiwatchError } from '../../errors/cpiwatch-error.js';
import { createLogger } from '../../ops/logger.js';
import { type CliIo, parseArgs } from '../io.js';

export const DLQ_HELP = `Usage: cpiwatch dlq list   [--topic <dlq>] [--code <CPWnnn>] [--limit <n>] [--format text|json]
       cpiwatch dlq replay [--topic <dlq>] [--code <CPWnnn>] [--limit <n>] [--to <topic>]
                           [--group <id>] [--dry-run]

Dead letters are events cpiwatch could not process (not JSON, not a CloudEvent, an unknown type,
data failing its schema, ...): the original key, bytes and headers plus cpiwatch-dlq-code, -reason,
-topic, -partition, -offset and -time headers. Codes are listed in docs/errors.md.

list     prints the dead letters on the topic (default DLQ_TOPIC), oldest first; reads only.
replay   re-publishes them to --to (default EVENTS_TOPIC) with their original key, bytes and
         headers, after the cause has been fixed (a rule or event type added, a producer fixed).
         Progress is committed under the consumer group --group (default
         <KAFKA_GROUP_ID>-dlq-replay): a second replay with the same group continues after the
         last letter replayed, so nothing is replayed twice. Letters skipped by --code are passed
         over for that group too; use another --group to replay them later.
         --dry-run prints what would be replayed and commits nothing.`;

interface Args {
  topic: string;
  code?: string;
  limit: number;
  format: 'text' | 'json';
  to: string;
  group: string;
  dryRun: boolean;
}

function parse(argv: string[], settings: ReturnType<typeof loadSettings>): { sub: string | undefined; help: boolean; args: Args } {
  const { flags, positional } = parseArgs(argv, ['help', 'dry-run']);
  const str = (name: string): string | undefined => {
    const v = flags[name];
    if (v === true) throw new CpiwatchError('USAGE', [`--${name} needs a value`]);
    return v;
  };
  const limitText = str('limit');
  const limit = limitText === undefined ? Number.POSITIVE_INFINITY : Number(limitText);
  if (!(limit > 0) || (limitText !== undefined && !Number.isInteger(limit))) throw new CpiwatchError('USAGE', [`--limit must be a positive integer, not ${limitText}`]);
  const format = str('format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new CpiwatchError('USAGE', [`--format must be text or json, not ${format}`]);
  const code = str('code');
  return {
    sub: positional[0],
    help: flags.help === true,
    args: {
      topic: str('topic') ?? settings.DLQ_TOPIC,
      ...(code ? { code: code.toUpperCase() } : {}),
      limit,
      format,
      to: str('to') ?? settings.EVENTS_TOPIC,
      group: str('group') ?? `${settings.KAFKA_GROUP_ID}-dlq-replay`,
      dryRun: flags['dry-run'] === true,
    },
  };
}

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

export async function dlqCommand(argv: string[], io: CliIo): Promise<number> {
  const settings = loadSettings(process.env);
  const { sub, help, args } = parse(argv, settings);
  if (help || !sub) { (help ? io.stdout : io.stderr)(DLQ_HELP); return help ? 0 : 2; }
  if (sub !== 'list' && sub !== 'replay') { io.stderr(`cpiwatch dlq: unknown sub-command "${sub}"\n\n${DLQ_HELP}`); return 2; }
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
}
