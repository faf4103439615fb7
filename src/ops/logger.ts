/**
 * pino JSON logs. Fields used across the code: eventId, ruleId, offerId, customerId, topic, partition,
 * offset, code (error registry), err. Personal data is redacted wherever it appears under these keys.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'email', '*.email', '*.*.email', 'name', '*.name', 'to', '*.to', 'password', '*.password', 'facts', '*.facts',
  'data.email', 'data.name', 'event.data.email', 'event.data.name',
];

const EMAIL = /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[a-z]{2,}/gi;

/** E-mail addresses inside any string field (error messages of SMTP servers quote them) become [email]. */
export function scrubEmails<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return value.replace(EMAIL, '[email]') as T;
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: scrubEmails(value.message), ...(value.stack ? { stack: scrubEmails(value.stack) } : {}) } as T;
  if (Array.isArray(value)) return value.map((v) => scrubEmails(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubEmails(v, depth + 1);
  return out as T;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cpiwatch' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (obj) => scrubEmails(obj) },
      hooks: {
        // the message too: a caller may have interpolated a value into it
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubEmails(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** A logger that drops everything (tests, backtests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
