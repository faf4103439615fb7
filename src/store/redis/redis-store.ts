/**
 * The offer ledger in Redis: each offer id decided once, under the stateful guardrails (cooldowns,
 * frequency caps, budgets), atomically in one Lua call per batch (decide-offers.lua), and marked
 * published before its batch's Kafka transaction commits. Works on standalone Redis and on Redis
 * Cluster (the ledger's keys share one hash tag). Owner partitions' state is in partition-state.ts.
 */
import type { Cluster, Redis } from 'ioredis';
import type { EmailState, LedgerVerdict, OfferCandidate, OfferLedger } from '../state-store.js';
import { RedisKeys } from './keys.js';
import { roundTrip, type Command } from './round-trip.js';
import { defineScripts } from './script-loader.js';

/** cjson encodes an empty array as an empty object. */
function list<T>(v: T[] | Record<string, never> | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

/**
 * An e-mail state as the string of its key (:email:<offerId>): "sent", "no-address" or
 * "gave-up:<error>", the values the e-mail channel has always written.
 */
function encodeEmail(state: EmailState): string {
  return state.status === 'gave-up' ? `gave-up:${state.error.slice(0, 200)}` : state.status;
}

function decodeEmail(raw: string): EmailState {
  if (raw === 'sent' || raw === 'no-address') return { status: raw };
  // a value this version does not know still means the e-mail was dealt with: never sent twice
  return { status: 'gave-up', error: raw.startsWith('gave-up:') ? raw.slice('gave-up:'.length) : `unknown e-mail state ${JSON.stringify(raw.slice(0, 50))}` };
}

export class RedisStore implements OfferLedger {
  readonly keys: RedisKeys;

  constructor(private readonly client: Redis | Cluster, prefix = 'cpiwatch') {
    this.keys = new RedisKeys(prefix);
    defineScripts(client);
  }

  async decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]> {
    if (candidates.length === 0) return [];
    const [raw] = await roundTrip(this.client, [['decideOffers', [this.keys.decisions(), JSON.stringify(candidates)]]]);
    return list(JSON.parse(String(raw)) as LedgerVerdict[]);
  }

  async markPublished(offerIds: string[]): Promise<void> {
    await roundTrip(this.client, offerIds.map((id) => ['hset', [this.keys.offer(id), 'published', '1']] as Command));
  }

  async readLedger(offerIds: string[]): Promise<(LedgerVerdict | null)[]> {
    const replies = await roundTrip(
      this.client,
      offerIds.map((id) => ['hmget', [this.keys.offer(id), 'outcome', 'reason', 'published']] as Command),
    );
    return replies.map((raw, i) => {
      const [outcome, reason, published] = raw as (string | null)[];
      if (!outcome) return null;
      return {
        offerId: offerIds[i]!,
        outcome: outcome as LedgerVerdict['outcome'],
        ...(reason ? { reason: reason as LedgerVerdict['reason'] } : {}),
        replay: false,
        published: published === '1',
      };
    });
  }

  async emailState(offerId: string): Promise<EmailState | null> {
    const [raw] = await roundTrip(this.client, [['get', [this.keys.email(offerId)]]]);
    return typeof raw === 'string' ? decodeEmail(raw) : null;
  }

  async markEmail(offerId: string, state: EmailState, retainMs: number): Promise<void> {
    await roundTrip(this.client, [['set', [this.keys.email(offerId), encodeEmail(state), 'PX', String(Math.max(1, Math.round(retainMs)))]]]);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => undefined);
  }
}
