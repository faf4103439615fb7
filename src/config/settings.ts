/**
 * Every setting of cpiwatch, validated with zod at start-up. Sources, later wins: defaults, an optional
 * JSON config file (CPIWATCH_CONFIG), environment variables. Secrets may come from `<NAME>_FILE`.
 * docs/operations.md lists each setting (a test checks that every one is documented).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CpiwatchError } from '../errors/cpiwatch-error.js';
import { parseDuration } from '../shared/duration.js';

const duration = (fallback: string) =>
  z.string().default(fallback).transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s" or "5m", got "${s}"` });
      return z.NEVER;
    }
    return ms;
  });

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) => z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1');
const list = (fallback: string) => z.string().default(fallback).transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** Each setting: its environment variable, schema, whether it is a secret, and its documentation. */
export const SETTINGS = {
  KAFKA_BROKERS: { schema: list('127.0.0.1:19092'), secret: false, doc: 'Comma-separated Kafka bootstrap brokers.' },
  KAFKA_CLIENT_ID: { schema: z.string().min(1).default('cpiwatch'), secret: false, doc: 'Kafka client id.' },
  KAFKA_GROUP_ID: { schema: z.string().min(1).default('cpiwatch'), secret: false, doc: 'Consumer group of the processors; instances in one group share partitions.' },
  EVENTS_TOPIC: { schema: z.string().min(1).default('cpiwatch.events'), secret: false, doc: 'Topic of customer events (CloudEvents).' },
  OFFERS_TOPIC: { schema: z.string().min(1).default('cpiwatch.offers'), secret: false, doc: 'Topic offers are published to, keyed by customer id.' },
  DECISIONS_TOPIC: { schema: z.string().min(1).default('cpiwatch.decisions'), secret: false, doc: 'Topic of every decision, offered or suppressed, with the reason.' },
  DLQ_TOPIC: { schema: z.string().min(1).default('cpiwatch.events.dlq'), secret: false, doc: 'Dead-letter topic for events that cannot be processed.' },
  KAFKA_SSL: { schema: bool(false), secret: false, doc: 'Connect to Kafka over TLS.' },
  KAFKA_SSL_CA_FILE: { schema: z.string().optional(), secret: false, doc: 'PEM file of the CA that signed the brokers\' certificates.' },
  KAFKA_SSL_REJECT_UNAUTHORIZED: { schema: bool(true), secret: false, doc: 'Verify broker certificates.' },
  KAFKA_SASL_MECHANISM: { schema: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'), secret: false, doc: 'SASL mechanism.' },
  KAFKA_SASL_USERNAME: { schema: z.string().optional(), secret: false, doc: 'SASL user name.' },
  KAFKA_SASL_PASSWORD: { schema: z.string().optional(), secret: true, doc: 'SASL password (or KAFKA_SASL_PASSWORD_FILE).' },
  REDIS_URL: { schema: z.string().default('redis://127.0.0.1:16379'), secret: true, doc: 'Redis URL (redis:// or rediss:// for TLS; user and password may be in it).' },
  REDIS_CLUSTER_NODES: { schema: list(''), secret: false, doc: 'Comma-separated host:port seeds of a Redis Cluster; when set, REDIS_URL supplies only credentials and TLS.' },
  REDIS_PASSWORD: { schema: z.string().optional(), secret: true, doc: 'Redis (ACL user\'s) password, overriding the one in REDIS_URL (or REDIS_PASSWORD_FILE).' },
  REDIS_PREFIX: { schema: z.string().regex(/^[^{}]+$/).default('cpiwatch'), secret: false, doc: 'Prefix of every Redis key.' },
  REDIS_TLS_CA_FILE: { schema: z.string().optional(), secret: false, doc: 'PEM file of the CA of the Redis server certificate.' },
  SMTP_URL: { schema: z.string().optional(), secret: true, doc: 'SMTP server (smtp:// or smtps://, credentials may be in it); unset disables e-mail.' },
  SMTP_PASSWORD: { schema: z.string().optional(), secret: true, doc: 'SMTP password, overriding the one in SMTP_URL (or SMTP_PASSWORD_FILE).' },
  SMTP_TLS_CA_FILE: { schema: z.string().optional(), secret: false, doc: 'PEM file of the CA of the SMTP server certificate (smtps://, or STARTTLS on smtp://).' },
  EMAIL_FROM: { schema: z.string().default('cpiwatch <offers@example.com>'), secret: false, doc: 'From address of offer e-mails.' },
  EMAIL_GROUP_ID: { schema: z.string().min(1).default('cpiwatch-email'), secret: false, doc: 'Consumer group of the e-mail channel (reads the offers topic).' },
  EMAIL_MAX_ATTEMPTS: { schema: int(8, 1, 100), secret: false, doc: 'Attempts per e-mail before it is recorded as failed.' },
  RULES_DIR: { schema: z.string().default('rules'), secret: false, doc: 'Directory (or file) of rule files; watched for changes.' },
  RULES_RELOAD_TIMEOUT: { schema: duration('10s'), secret: false, doc: 'Longest one hot reload of the rule files may take; a reload still reading after it (a hung file system) is abandoned with an error, the previous rules keep running, and later changes and SIGHUP reload again.' },
  HTTP_HOST: { schema: z.string().default('127.0.0.1'), secret: false, doc: 'Address of the health and metrics endpoint.' },
  HTTP_PORT: { schema: int(9464, 0, 65535), secret: false, doc: 'Port of /healthz, /readyz and /metrics (0 = any free port).' },
  LIVE_PAGE: { schema: z.enum(['auto', 'open', 'off']).default('auto'), secret: false, doc: 'The live page (/live, /live.json) on the HTTP endpoint: `auto` serves it when HTTP_HOST is loopback or LIVE_PAGE_TOKEN is set, and answers 403 on another bind without a token (logged at start); `open` serves it on any bind without a token (a trusted network only); `off` does not serve it.' },
  LIVE_PAGE_TOKEN: { schema: z.string().min(16).optional(), secret: true, doc: 'Bearer token the live page then asks for (Authorization: Bearer <token>, or ?token= on the page\'s address); at least 16 characters (or LIVE_PAGE_TOKEN_FILE).' },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), secret: false, doc: 'pino log level.' },
  MAX_EVENT_BYTES: { schema: int(1_000_000, 256), secret: false, doc: 'Largest event value processed, in bytes; larger ones are dead-lettered (CPW204). Events over the events topic\'s max.message.bytes never arrive (the broker refuses them), so this matters below that limit: it caps what one event may cost to parse, and the default stays 48 KB under the broker default 1,048,588 so that the dead letter of any event it lets through (value + headers) fits a default dead-letter topic whole; only letters of larger events are truncated (docs/operations.md, "Dead letters").' },
  MAX_FUTURE_SKEW: { schema: duration('5m'), secret: false, doc: 'Events whose time is further in the future than this are dead-lettered.' },
  SHUTDOWN_TIMEOUT: { schema: duration('30s'), secret: false, doc: 'Deadline for a graceful shutdown on SIGTERM/SIGINT.' },
  KAFKA_SESSION_TIMEOUT: { schema: duration('30s'), secret: false, doc: 'Consumer group session timeout: how long the partitions of an instance that died without leaving wait before another instance takes them (the broker allows 6s to 5m by default).' },
  OPS_TOPIC: { schema: z.string().default(''), secret: false, doc: 'Internal topic of the routing stage (the repartition hop): ops by owning entity, as many partitions as EVENTS_TOPIC, created at start. Empty: `<KAFKA_GROUP_ID>.ops`.' },
  IDLE_ADVANCE: { schema: z.enum(['wall-clock', 'none']).default('wall-clock'), secret: false, doc: 'What an idle mark does to its source\'s watermark: `wall-clock` advances it by the wall time since the source\'s last event (a quiet store\'s windows close and episodes end on time); `none` leaves it (stream time is the events\' alone, as in a backtest: for replaying history into a running deployment). Idle marks are sent either way: they let every owner decide what the others\' progress allows.' },
  IDLE_MARK_INTERVAL: { schema: duration('1s'), secret: false, doc: 'How often an input partition that is caught up and idle moves its owners\' stream time with the wall clock.' },
  ALIGNMENT_BOUND: {
    schema: z.string().default('auto').refine((v) => v === 'auto' || v === 'off' || parseDuration(v) !== undefined, { message: 'expected auto, off or a duration such as "1m"' }),
    secret: false,
    doc: 'How far (event time) one input partition may run ahead of the slowest of this instance before it waits (watermark alignment): `auto` is half the smallest allowedLateness of the loaded CPIs (the other half absorbs disorder within a partition), a duration is capped at the smallest allowedLateness, `off` disables it. With a smallest allowedLateness of 0 alignment is off (docs/operations.md, "Stream time and alignment").',
  },
  PARTITIONS_CONCURRENTLY: { schema: int(16, 1, 256), secret: false, doc: 'Partitions processed at the same time by one instance; at least the partitions one instance holds, so each fetch\'s batches run at once (fewer doubled the event-to-offer latency in the benchmark).' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { schema: z.string().url().optional(), secret: false, doc: 'OTLP/HTTP endpoint of a collector (e.g. http://otel-collector:4318); spans go to <endpoint>/v1/traces. Unset disables tracing export.' },
  OTEL_SERVICE_NAME: { schema: z.string().min(1).default('cpiwatch'), secret: false, doc: 'service.name of exported spans.' },
  STARTUP_RETRY_MAX: { schema: duration('30s'), secret: false, doc: 'Longest pause between attempts to reach Kafka and Redis at start-up (the process keeps trying, not ready meanwhile).' },
} as const;

export type SettingName = keyof typeof SETTINGS;
export type Settings = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };

const SettingsSchema = z.object(Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, v.schema])) as { [K in SettingName]: (typeof SETTINGS)[K]['schema'] });

/** Reads settings from a config file, the environment and `_FILE` secrets; throws CPW100 naming every bad variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  let fromFile: Record<string, unknown> = {};
  const file = env.CPIWATCH_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new CpiwatchError('CONFIG_FILE_UNREADABLE', [file, (err as Error).message]);
    }
  }
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS)) {
    const fileRef = env[`${name}_FILE`];
    let value: unknown = env[name] ?? fromFile[name];
    if (value === undefined && fileRef) {
      try { value = readFileSync(fileRef, 'utf8').trim(); } catch (err) { throw new CpiwatchError('CONFIG_FILE_UNREADABLE', [fileRef, (err as Error).message]); }
    }
    if (value !== undefined && value !== '') raw[name] = typeof value === 'string' ? value : String(value);
  }
  const parsed = SettingsSchema.superRefine((v, ctx) => {
    if (v.KAFKA_SASL_MECHANISM === 'none') return;
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (!v[name]) ctx.addIssue({ code: 'custom', path: [name], message: `required with KAFKA_SASL_MECHANISM=${v.KAFKA_SASL_MECHANISM} (or ${name}_FILE)` });
    }
  }).safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
    throw new CpiwatchError('CONFIG_INVALID', [problems]);
  }
  return parsed.data as Settings;
}

/** The settings with secrets (and passwords inside URLs) masked, for `cpiwatch config` and logs. */
export function maskedSettings(settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = settings[name];
    const spec = SETTINGS[name];
    if (value === undefined) { out[name] = undefined; continue; }
    if (spec.secret && typeof value === 'string') out[name] = name.endsWith('_URL') ? maskUrl(value) : '********';
    else out[name] = value;
  }
  return out;
}

/** A URL with its password (and any query parameter that looks like one) masked; not a URL: all masked. */
export function maskUrl(value: string): string {
  try {
    const u = new URL(value);
    if (!/^(redis|rediss|smtp|smtps):$/.test(u.protocol)) return '********';
    if (u.password) u.password = '********';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|auth/i.test(key)) u.searchParams.set(key, '********');
    }
    return u.toString();
  } catch {
    return '********';
  }
}
