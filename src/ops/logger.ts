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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cpiwatch' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** A logger that drops everything (tests, backtests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
