/**
 * The event time of a Kafka message without decoding it: the `ce_time` header (binary mode) or the
 * first top-level-looking `"time": "..."` of a structured event. Good enough to pace partitions
 * (stream-time/alignment.ts); never used for results, which come from the full decoding.
 */
import type { KafkaHeaders } from './decode.js';

const TIME_KEY = Buffer.from('"time"');

export function peekEventTime(m: { value: Buffer | null; headers?: KafkaHeaders }): number | undefined {
  const h = m.headers?.ce_time;
  if (h !== undefined) {
    const t = Date.parse(String(Array.isArray(h) ? h[0] : h));
    return Number.isFinite(t) ? t : undefined;
  }
  const v = m.value;
  if (!v) return undefined;
  const at = v.indexOf(TIME_KEY);
  if (at < 0) return undefined;
  const tail = v.subarray(at + TIME_KEY.length, at + TIME_KEY.length + 64).toString('latin1');
  const match = /^\s*:\s*"([^"]{10,40})"/.exec(tail);
  if (!match) return undefined;
  const t = Date.parse(match[1]!);
  return Number.isFinite(t) ? t : undefined;
}
