/**
 * kafkajs log entries to pino. kafkajs logs at ERROR every failed response before it retries it,
 * including the group coordinator's answers while it loads on a fresh broker (GROUP_LOAD_IN_PROGRESS,
 * GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP): retriable, retried, and gone in a
 * second or two. Those three, and only those, are logged at debug and counted
 * (cpiwatch_kafka_coordinator_loading_total); every other error stays an error.
 */
import { logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '../../ops/logger.js';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** kafkajs' messages of the transient coordinator errors (node_modules/kafkajs/src/protocol/error.js). */
export const COORDINATOR_LOADING_MESSAGES: ReadonlySet<string> = new Set([
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
]);

let downgraded = 0;

/** How many kafkajs error entries of this process were transient coordinator errors logged at debug. */
export function coordinatorLoadingErrors(): number {
  return downgraded;
}

export function isCoordinatorLoading(level: number, entry: LogEntry['log']): boolean {
  const error = (entry as { error?: unknown }).error;
  return level === logLevel.ERROR && typeof error === 'string' && COORDINATOR_LOADING_MESSAGES.has(error);
}

/** kafkajs' logCreator writing to `log`. */
export function kafkaLogCreator(log: Logger): () => (entry: LogEntry) => void {
  return () => ({ namespace, level, log: entry }) => {
    const { message, ...extra } = entry;
    const transient = isCoordinatorLoading(level, entry);
    if (transient) downgraded += 1;
    log[transient ? 'debug' : LEVELS[level] ?? 'info']({ kafka: namespace, ...extra }, message);
  };
}
