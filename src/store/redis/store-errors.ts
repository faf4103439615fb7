/**
 * Redis failures in the error registry's terms, at the store's edge: what the processor must retry
 * (CPW400 STORE_UNAVAILABLE: the connection, a restart, a full memory, a missing permission: nothing
 * the batch itself did) and what retrying cannot fix (CPW401 STORE_SCRIPT: a Lua script failed on
 * the arguments the batch gave it; the consumer splits the batch to find the event behind it).
 * A fenced save (PartitionFencedError) stays what it is: the owner claims the partition again.
 */
import { CpiwatchError } from '../../errors/cpiwatch-error.js';

/** Reply prefixes of a Redis that is there but cannot serve now (retried like a lost connection). */
const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|OOM|NOPERM|NOAUTH|WRONGPASS|NOSCRIPT|MISCONF|ERR max number of clients)/;
/** A script's own runtime error (Redis 7: "ERR user_script:12: ...", Redis 6: "ERR Error running script ..."), or one it raised. */
const SCRIPT_ERROR = /user_script:|Error running script|^ERR [a-z-]+: /;

export function storeError(err: unknown, what: string): unknown {
  const e = err as { name?: string; message?: string };
  // (PartitionFencedError by name: partition-state.ts builds on this module)
  if (err instanceof CpiwatchError || e?.name === 'PartitionFencedError') return err;
  const message = e?.message ?? String(err);
  if (e?.name === 'ReplyError' && !TRANSIENT_REPLY.test(message) && SCRIPT_ERROR.test(message)) {
    return new CpiwatchError('STORE_SCRIPT', [what, message], { cause: err });
  }
  return new CpiwatchError('STORE_UNAVAILABLE', [`${what}: ${message}`], { cause: err });
}

/** Runs one store call; its failure comes out as CPW400 or CPW401. */
export async function inStore<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw storeError(err, what);
  }
}
