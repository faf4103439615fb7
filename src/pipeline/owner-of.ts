/**
 * Which partition owns an entity: murmur2 of the entity's value (the part after "=" in its tag)
 * modulo the partition count, as Kafka's default partitioner places a record keyed by that value. So
 * an input keyed by the CPI's scope (a store id) already sits on the partition that owns the store.
 */
import { parseTag } from '../cpis/tags.js';

/** Kafka's murmur2 (the Java client's and kafkajs' default partitioner), on the first `length` UTF-8 bytes of `data`. */
export function murmur2(data: Uint8Array, length = data.length): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length % 4;
  const idx = length & ~3;
  if (rest === 3) h ^= (data[idx + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[idx + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[idx]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const utf8 = new TextEncoder();
/** Reused for every tag's bytes (ownerOf runs for every op routed: no allocation per op). */
const scratch = new Uint8Array(1024);

/** The partition of `partitions` that owns the entity `tag`. */
export function ownerOf(tag: string, partitions: number): number {
  if (partitions <= 1) return 0;
  const value = parseTag(tag).value;
  // a UTF-8 byte per UTF-16 unit at most 3: the scratch holds it whole
  if (value.length * 3 > scratch.length) return (murmur2(Buffer.from(value, 'utf8')) & 0x7fffffff) % partitions;
  const { written } = utf8.encodeInto(value, scratch);
  return (murmur2(scratch, written) & 0x7fffffff) % partitions;
}
