/**
 * Durable state of one owner partition. Each partition of an internal topic has one owner process,
 * which keeps its entities' state in memory and, after each batch, persists what the batch changed
 * here in one atomic script call (save-partition.lua) with the partition's applied offsets and meta.
 * A process that takes a partition over loads it all back (claim).
 *
 * Fencing: every claim INCRs the partition's epoch (claim-partition.lua) and every save carries the
 * epoch its claim got; a save with any other epoch is refused whole (PartitionFencedError). A process
 * that lost the partition without noticing yet (a long pause, a rebalance in flight) cannot
 * overwrite its successor's state, however late its write arrives.
 *
 * Claim: epoch, offsets and meta come from one script call; the entities hash (200,000 fields for a
 * big partition) is read afterwards by HSCAN in chunks of SCAN_COUNT, so no single call blocks Redis
 * long. The snapshot is still consistent: after the INCR every older writer is fenced, and the new
 * owner writes nothing before it has its snapshot, so the hash does not change during the scan (HSCAN
 * returns every field present for the whole scan; a field returned twice has the same value). Only a
 * newer claim could write meanwhile: the epoch is read again at the end, and a claim overtaken that
 * way throws PartitionFencedError rather than return a torn snapshot.
 *
 * Large saves: a batch that changed more than MAX_CALL_BYTES of entities (50,000 states) is split
 * into several save-partition.lua calls, sent one after the other; every call checks the epoch and
 * only the last writes offsets and meta. A crash or a fence between two calls leaves some of the
 * batch's entities written while the offsets still say the batch was not applied: the next owner
 * loads them and gets the batch redelivered. That is safe as long as the owner, re-applying a batch,
 * re-derives the same state for an entity that already has it (each entity's state records what it
 * applied, e.g. its last offset per source): the partial writes
 * are then overwritten by the redelivered batch's save. A single-call save is all or nothing.
 *
 * Strings: tags, states, sources and meta are passed as separate arguments and stored as their UTF-8
 * bytes; the scripts never decode them (no cjson), so any JSON inside round-trips byte for byte. A JS
 * string with a lone surrogate has no UTF-8 form (it would come back as U+FFFD): saves refuse one
 * with a TypeError instead of corrupting it. JSON.stringify escapes lone surrogates ("\ud800"), so
 * serialized JSON never has one.
 *
 * No TTLs: this is the durable copy; the owner deletes entities itself (null in a write).
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { roundTrip, type Command } from './round-trip.js';
import { defineScripts } from './script-loader.js';
import { inStore, storeError } from './store-errors.js';

/** A save or a claim by a process whose epoch is no longer the partition's newest. */
export class PartitionFencedError extends Error {
  constructor(readonly partition: string, readonly epoch: number, readonly current: number) {
    super(`partition ${partition}: epoch ${epoch} is fenced, the current epoch is ${current} (claimed again since)`);
    this.name = 'PartitionFencedError';
  }
}

export interface PartitionSnapshot {
  /** The epoch this claim got (strictly greater than any before). */
  epoch: number;
  /** Source ("topic:partition") -> last applied offset. */
  offsets: Record<string, number>;
  /** Entity tag -> its serialized state (opaque string). */
  entities: Map<string, string>;
  /** Opaque partition-level state (stream time etc.); null if never saved. */
  meta: string | null;
}

export interface PartitionWrite {
  /** Entity tag -> new serialized state; null deletes the entity. */
  entities: Map<string, string | null>;
  /** Sources to set; sources not named keep their offset. */
  offsets: Record<string, number>;
  /** New partition-level state; undefined keeps the current one. */
  meta?: string;
}

export interface PartitionStatePort {
  /** Takes the partition over: a new epoch, which fences every earlier claim, and the whole state. */
  claim(partition: string): Promise<PartitionSnapshot>;
  /** Persists one batch's changes; throws PartitionFencedError (nothing written) if epoch is not the current one. */
  save(partition: string, epoch: number, write: PartitionWrite): Promise<void>;
  /** Reads some entities without claiming (explain, tests). */
  readEntities(partition: string, tags: string[]): Promise<(string | null)[]>;
}

/** ARGV bytes one save-partition.lua call carries at most (one entity larger than this goes alone). */
export const MAX_CALL_BYTES = 8 * 1024 * 1024;
/** Fields per HSCAN of a claim, and tags per HMGET of readEntities. */
const SCAN_COUNT = 1000;
/** RESP framing of one argument ("$<len>\r\n...\r\n"), counted against MAX_CALL_BYTES. */
const ARG_OVERHEAD = 16;

/** One save-partition.lua call of a write. */
export interface SaveCall {
  set: [tag: string, state: string][];
  del: string[];
  offsets: [source: string, offset: number][];
  meta: string | null;
}

/**
 * Splits a write into calls of at most maxBytes of arguments; only the last carries offsets and meta.
 * A write that fits in one call even at 3 UTF-8 bytes per UTF-16 unit (the most a unit takes) is
 * that one call without counting its bytes: the usual batch, whose states would otherwise all be
 * measured once here and once more by ioredis.
 */
export function planSaveCalls(write: PartitionWrite, maxBytes = MAX_CALL_BYTES): SaveCall[] {
  let bound = write.meta === undefined ? 0 : 3 * write.meta.length + ARG_OVERHEAD;
  const offsets = Object.entries(write.offsets);
  for (const [source, offset] of offsets) bound += 3 * source.length + String(offset).length + 2 * ARG_OVERHEAD;
  for (const [tag, state] of write.entities) {
    bound += 3 * (tag.length + (state === null ? 0 : state.length)) + 2 * ARG_OVERHEAD;
    if (bound > maxBytes) return planCountedCalls(write, maxBytes);
  }
  if (bound > maxBytes) return planCountedCalls(write, maxBytes);
  const call: SaveCall = { set: [], del: [], offsets, meta: write.meta ?? null };
  for (const [tag, state] of write.entities) {
    if (state === null) call.del.push(tag);
    else call.set.push([tag, state]);
  }
  return [call];
}

/** planSaveCalls with every argument's bytes counted (a write that may need several calls). */
export function planCountedCalls(write: PartitionWrite, maxBytes = MAX_CALL_BYTES): SaveCall[] {
  const empty = (): SaveCall => ({ set: [], del: [], offsets: [], meta: null });
  const calls: SaveCall[] = [];
  let call = empty();
  let bytes = 0;
  const add = (size: number) => {
    if (bytes > 0 && size > 0 && bytes + size > maxBytes) {
      calls.push(call);
      call = empty();
      bytes = 0;
    }
    bytes += size;
  };
  for (const [tag, state] of write.entities) {
    if (state === null) {
      add(Buffer.byteLength(tag) + ARG_OVERHEAD);
      call.del.push(tag);
    } else {
      add(Buffer.byteLength(tag) + Buffer.byteLength(state) + 2 * ARG_OVERHEAD);
      call.set.push([tag, state]);
    }
  }
  const offsets = Object.entries(write.offsets);
  let tail = write.meta === undefined ? 0 : Buffer.byteLength(write.meta) + ARG_OVERHEAD;
  for (const [source, offset] of offsets) tail += Buffer.byteLength(source) + String(offset).length + 2 * ARG_OVERHEAD;
  add(tail);
  call.offsets = offsets;
  call.meta = write.meta ?? null;
  calls.push(call);
  return calls;
}

function argvOf(epoch: number, call: SaveCall): string[] {
  const argv = [String(epoch), String(call.set.length), String(call.del.length), String(call.offsets.length), call.meta === null ? '0' : '1'];
  for (const [tag, state] of call.set) argv.push(tag, state);
  argv.push(...call.del);
  for (const [source, offset] of call.offsets) argv.push(source, String(offset));
  if (call.meta !== null) argv.push(call.meta);
  return argv;
}

function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Refuses a write that cannot be stored as sent (shared with the memory version, so both refuse the same). */
export function checkWrite(partition: string, write: PartitionWrite): void {
  const bad = (what: string) => {
    throw new TypeError(`partition ${partition}: ${what} has a lone UTF-16 surrogate (no UTF-8 form; JSON.stringify escapes it)`);
  };
  for (const [tag, state] of write.entities) {
    if (!wellFormed(tag)) bad(`the tag ${JSON.stringify(tag)}`);
    if (state !== null && !wellFormed(state)) bad(`the state of ${JSON.stringify(tag)}`);
  }
  for (const [source, offset] of Object.entries(write.offsets)) {
    if (!wellFormed(source)) bad(`the source ${JSON.stringify(source)}`);
    if (!Number.isSafeInteger(offset)) throw new TypeError(`partition ${partition}: the offset of ${source} is not an integer: ${offset}`);
  }
  if (write.meta !== undefined && !wellFormed(write.meta)) bad('the meta');
}

interface PartitionScripts {
  claimPartition(base: string): Promise<[epoch: number, offsets: string[], meta: string | null]>;
  savePartition(base: string, argv: string[]): Promise<number>;
}

export class RedisPartitionState implements PartitionStatePort {
  private readonly scripts: PartitionScripts;

  constructor(private readonly client: Redis | Cluster, private readonly keys: RedisKeys, private readonly maxCallBytes = MAX_CALL_BYTES) {
    defineScripts(client);
    this.scripts = client as unknown as PartitionScripts;
  }

  claim(partition: string): Promise<PartitionSnapshot> {
    return inStore('claim-partition', () => this.load(partition));
  }

  private async load(partition: string): Promise<PartitionSnapshot> {
    const [epoch, flat, meta] = await this.scripts.claimPartition(this.keys.partition(partition));
    const offsets: [string, number][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) offsets.push([flat[i]!, Number(flat[i + 1])]);
    const entities = new Map<string, string>();
    const key = this.keys.partitionEntities(partition);
    let cursor = '0';
    do {
      const [next, fields] = await this.client.hscan(key, cursor, 'COUNT', SCAN_COUNT);
      for (let i = 0; i + 1 < fields.length; i += 2) entities.set(fields[i]!, fields[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
    // a newer claim during the scan may have written the hash: this snapshot is not the owner's
    const current = Number((await this.client.get(this.keys.partitionEpoch(partition))) ?? 0);
    if (current !== epoch) throw new PartitionFencedError(partition, epoch, current);
    return { epoch, offsets: Object.fromEntries(offsets), entities, meta };
  }

  async save(partition: string, epoch: number, write: PartitionWrite): Promise<void> {
    checkWrite(partition, write);
    const base = this.keys.partition(partition);
    // one call after the other: a call that fails stops the save before the offsets are written
    for (const call of planSaveCalls(write, this.maxCallBytes)) {
      try {
        await this.scripts.savePartition(base, argvOf(epoch, call));
      } catch (err) {
        const fenced = err instanceof Error ? /^FENCED (\d+)/.exec(err.message) : null;
        if (fenced) throw new PartitionFencedError(partition, epoch, Number(fenced[1]));
        throw storeError(err, 'save-partition');
      }
    }
  }

  /** The partition-level state of each partition (null: none saved yet), without claiming. */
  async readMeta(partitions: string[]): Promise<(string | null)[]> {
    if (partitions.length === 0) return [];
    const replies = await roundTrip(this.client, partitions.map((p) => ['get', [this.keys.partitionMeta(p)]] as Command));
    return replies as (string | null)[];
  }

  async readEntities(partition: string, tags: string[]): Promise<(string | null)[]> {
    const key = this.keys.partitionEntities(partition);
    const commands: Command[] = [];
    for (let i = 0; i < tags.length; i += SCAN_COUNT) commands.push(['hmget', [key, ...tags.slice(i, i + SCAN_COUNT)]]);
    const replies = await roundTrip(this.client, commands);
    return replies.flatMap((r) => r as (string | null)[]);
  }
}
