/**
 * Read committed, for real: kafkajs 2.2.4 delivers records of aborted transactions to read-committed
 * consumers when the broker lists the aborted transactions of a fetch in another order than their
 * first offsets. The broker lists them in the order their abort markers were written (its
 * transaction index); kafkajs walks the list as if it were sorted by first offset, and activates at
 * most one aborted transaction per record. So when two transactions overlap in a partition and the
 * one that began first is aborted last (two crashed producers whose transactions the coordinator
 * aborts in one sweep, in any order), the records of the first reach the consumer. For cpiwatch that
 * is an offer read twice by a downstream consumer, or an op applied twice by the owner stage.
 *
 * The Java consumer keeps the aborted transactions in a queue ordered by first offset and, before
 * each record batch, takes every transaction that began at or before it. `filterAbortedRecords`
 * does the same per record, and `installReadCommittedFix` puts it in place of kafkajs's filter. It
 * must run before kafkajs's consumer modules load (they keep a reference to the filter): every
 * module that loads kafkajs for its values imports this one first (see kafka-client.ts).
 * `readCommittedIsSafe` checks the Batch class kafkajs actually uses, for startup logs and tests.
 */
import { createRequire, Module } from 'node:module';

interface RecordLike {
  offset: string;
  key?: Buffer | Uint8Array | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

interface AbortedTransaction { producerId: string; firstOffset: string }

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

function isAbortMarker(r: RecordLike): boolean {
  return r.isControlRecord === true && r.key != null && Buffer.from(r.key).equals(ABORT_MARKER_KEY);
}

/**
 * The records of a fetch (one partition, in offset order) without those of aborted transactions.
 * Control records are kept (the caller drops them), like the function it replaces.
 */
export function filterAbortedRecords<R extends RecordLike>({ messages, abortedTransactions }: { messages: R[]; abortedTransactions?: AbortedTransaction[] | null }): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const queue = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborting = new Set<string>();
  let next = 0;
  return messages.filter((r) => {
    const offset = BigInt(r.offset);
    while (next < queue.length && queue[next]!.firstOffset <= offset) aborting.add(queue[next++]!.producerId);
    const producerId = String(r.batchContext.producerId);
    if (isAbortMarker(r)) {
      aborting.delete(producerId);
      return true;
    }
    return !(r.batchContext.inTransaction && aborting.has(producerId));
  });
}

const require = createRequire(import.meta.url);

function resolved(path: string): string | null {
  try {
    return require.resolve(path);
  } catch {
    return null;
  }
}

/** Puts filterAbortedRecords in place of kafkajs's filter. False when kafkajs's consumer was loaded first. */
export function installReadCommittedFix(): boolean {
  const filterPath = resolved('kafkajs/src/consumer/filterAbortedMessages.js');
  const batchPath = resolved('kafkajs/src/consumer/batch.js');
  if (!filterPath || !batchPath) return false;
  const cache = require.cache;
  if (cache[filterPath]?.exports === filterAbortedRecords) return true;
  if (cache[batchPath]) return false;
  const m = new Module(filterPath);
  m.filename = filterPath;
  m.loaded = true;
  m.exports = filterAbortedRecords;
  cache[filterPath] = m;
  return true;
}

/** Whether the Batch class kafkajs uses drops the records of two overlapping aborted transactions, listed in abort order. */
export function readCommittedIsSafe(): boolean {
  const batchPath = resolved('kafkajs/src/consumer/batch.js');
  if (!batchPath) return false;
  const Batch = require(batchPath) as new (topic: string, fetchedOffset: string, data: unknown) => { messages: RecordLike[] };
  const record = (offset: number, producerId: string, control = false): RecordLike => ({
    offset: String(offset), key: control ? ABORT_MARKER_KEY : null, isControlRecord: control, batchContext: { producerId, inTransaction: true },
  });
  // producer 1 writes 0-1, producer 2 writes 2; 2's transaction is aborted first (marker 3), then 1's (marker 4)
  const messages = [record(0, '1'), record(1, '1'), record(2, '2'), record(3, '2', true), record(4, '1', true)];
  const batch = new Batch('t', '0', {
    partition: 0, highWatermark: '5', messages,
    abortedTransactions: [{ producerId: '2', firstOffset: '2' }, { producerId: '1', firstOffset: '0' }],
  });
  return batch.messages.length === 0;
}

installReadCommittedFix();
