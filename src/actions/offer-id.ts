/**
 * The deterministic offer id: one rule, one customer, one scope, one breach episode. It is the offer's
 * CloudEvent id and its idempotency key (Kafka consumers, the e-mail channel and the ledger all key
 * on it), formatted as an RFC 9562 version 8 UUID built from SHA-256.
 */
import { createHash } from 'node:crypto';

export function offerIdOf(ruleId: string, customerId: string, scopeTag: string, episode: number): string {
  const h = createHash('sha256').update(`cpiwatch-offer\n${ruleId}\n${customerId}\n${scopeTag}\n${episode}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
