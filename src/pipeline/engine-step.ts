import { CpiwatchError } from '../errors/cpiwatch-error.js';

/**
 * Runs a step of the pure engine: an exception there is a bug the input tripped, not a passing
 * outage, so it comes out as CPW700 PROCESSING_FAILED (not retriable: the consumer isolates the
 * message and dead-letters it).
 */
export function engine<T>(at: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof CpiwatchError) throw err;
    throw new CpiwatchError('PROCESSING_FAILED', [at, (err as Error)?.message ?? String(err)], { cause: err });
  }
}
