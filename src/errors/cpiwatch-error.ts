import { ErrorCodes, type ErrorCode, type ErrorName } from './codes.js';

/** Fills `%s` placeholders in order. */
function format(template: string, args: readonly unknown[]): string {
  let i = 0;
  return template.replace(/%s/g, () => (i < args.length ? String(args[i++]) : '%s'));
}

/** The one error type of cpiwatch: a stable code, a message built from the registry, a retriable flag. */
export class CpiwatchError extends Error {
  readonly code: ErrorCode;
  readonly errorName: ErrorName;
  readonly retriable: boolean;

  constructor(name: ErrorName, args: readonly unknown[] = [], options?: { cause?: unknown }) {
    const entry = ErrorCodes[name];
    super(`${entry.code} ${format(entry.message, args)}`, options);
    this.name = 'CpiwatchError';
    this.code = entry.code;
    this.errorName = name;
    this.retriable = entry.retriable;
  }
}

/** Builds the message text of a registry entry without the code prefix (for positioned rule errors). */
export function messageOf(name: ErrorName, ...args: unknown[]): string {
  return format(ErrorCodes[name].message, args);
}

/**
 * Whether trying again may succeed. Errors without a code (a dropped connection deep in a client
 * library, a fenced partition) are taken as retriable: only a coded error says that retrying cannot help.
 */
export function isRetriable(err: unknown): boolean {
  return err instanceof CpiwatchError ? err.retriable : true;
}

/**
 * Whether the input being processed caused the error, so that the consumer isolates the message
 * behind it and dead-letters it: a coded error that is not retriable and does not halt processing
 * altogether (CPW402: the input stays where it is until the state is rebuilt).
 */
export function isPoison(err: unknown): err is CpiwatchError {
  return err instanceof CpiwatchError && !err.retriable && !('halts' in ErrorCodes[err.errorName]);
}
