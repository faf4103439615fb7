/**
 * Kafka failures in the error registry's terms, at the producer's edge. Most are the broker being
 * away, slow, moving leaders or fencing a producer epoch: retried (CPW600 KAFKA_UNAVAILABLE, CPW500
 * OFFER_PUBLISH_FAILED, CPW601 DEAD_LETTER_FAILED by what the transaction carried). A few say that
 * a record itself is refused, which no retry changes (CPW604 KAFKA_RECORD_REJECTED): the consumer
 * then splits the batch to find the input that made it.
 */
import { CpiwatchError } from '../../errors/cpiwatch-error.js';

/** Broker answers about a record or a batch of them, not about the broker's state. */
const RECORD_REJECTED = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP', 'UNSUPPORTED_FOR_MESSAGE_FORMAT']);

type Chained = { type?: unknown; cause?: unknown; originalError?: unknown };

/** An error and its causes (kafkajs wraps the broker's answer after its retries; cpiwatch codes wrap those). */
export function kafkaErrorChain(err: unknown): Chained[] {
  const chain: Chained[] = [];
  let e = err as Chained | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    chain.push(e);
    e = (e.cause ?? e.originalError) as Chained | undefined;
  }
  return chain;
}

function kafkaErrorTypes(err: unknown): string[] {
  return kafkaErrorChain(err).flatMap((e) => (typeof e.type === 'string' ? [e.type] : []));
}

export interface TransactionContents { offers: number; deadLetters: number; offersTopic: string }

export function transactionError(err: unknown, what: TransactionContents): unknown {
  if (err instanceof CpiwatchError) return err;
  const message = (err as Error)?.message ?? String(err);
  const types = kafkaErrorTypes(err);
  const refused = types.find((t) => RECORD_REJECTED.has(t));
  if (refused) return new CpiwatchError('KAFKA_RECORD_REJECTED', [`a transaction (${what.offers} decisions, ${what.deadLetters} dead letters)`, `${refused}: ${message}`], { cause: err });
  if (what.offers > 0) return new CpiwatchError('OFFER_PUBLISH_FAILED', [what.offers, what.offersTopic, message], { cause: err });
  if (what.deadLetters > 0) return new CpiwatchError('DEAD_LETTER_FAILED', [message], { cause: err });
  return new CpiwatchError('KAFKA_UNAVAILABLE', [message], { cause: err });
}
