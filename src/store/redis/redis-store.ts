/**
 * The Redis state store: window updates, rule states, audiences, facts and the offer ledger, with
 * Lua scripts for everything that must be atomic. At most one round trip per call (see round-trip.ts).
 * Works on standalone Redis and on Redis Cluster (every script touches one hash-tagged entity).
 */
import type { Cluster, Redis } from 'ioredis';
import type {
  AudienceMember, AudienceQuery, FactValue, LedgerVerdict, OfferCandidate, OpStatus, RuleState,
  StateStore, TagBatch, TagResult, WindowSnapshot,
} from '../state-store.js';
import { RedisKeys } from './keys.js';
import { isCluster, roundTrip, type Command } from './round-trip.js';
import { defineScripts } from './script-loader.js';

type RawSnapshot = Omit<WindowSnapshot, 'sum' | 'min' | 'max' | 'bins'> & {
  sum: string; min?: string; max?: string; bins: Record<string, number> | unknown[];
};

function snapshotOf(s: RawSnapshot): WindowSnapshot {
  return {
    cpi: s.cpi,
    watermark: Number(s.watermark),
    at: Number(s.at),
    count: s.count,
    sum: Number(s.sum),
    min: s.min === undefined ? null : Number(s.min),
    max: s.max === undefined ? null : Number(s.max),
    num: s.num,
    den: s.den,
    bins: record(s.bins),
  };
}

interface ApplyReply {
  /** One letter per op: a(pplied), d(uplicate), l(ate), u(nmatched). */
  statuses: string;
  samples: Record<string, string> | unknown[];
  closes: RawSnapshot[] | Record<string, never>;
  snapshots: RawSnapshot[] | Record<string, never>;
  rules: string[] | Record<string, never>;
}

const STATUS_OF: Record<number, OpStatus> = { 97: 'applied', 100: 'duplicate', 108: 'late', 117: 'unmatched' };

/** cjson encodes an empty Lua table as {}: read it as an empty list. */
function list<T>(v: T[] | Record<string, never> | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

function record<T>(v: Record<string, T> | unknown[] | undefined): Record<string, T> {
  return v && !Array.isArray(v) ? v : {};
}

/** Rule states expire when a scope has been quiet this long (refreshed on every change). */
const RULE_STATE_TTL_MS = 30 * 86_400_000;

export class RedisStore implements StateStore {
  readonly keys: RedisKeys;

  constructor(private readonly client: Redis | Cluster, prefix = 'cpiwatch') {
    this.keys = new RedisKeys(prefix);
    defineScripts(client);
  }

  async applyOps(batches: TagBatch[]): Promise<TagResult[]> {
    if (batches.length === 0) return [];
    const keys = batches.map((b) => this.keys.entity(b.tag));
    const args = batches.map((b) => JSON.stringify({ source: b.source, ops: b.ops, cpis: b.cpis, readCurrent: b.readCurrent === true }));
    let replies: ApplyReply[];
    if (batches.length > 1 && !isCluster(this.client)) {
      // standalone: every entity in one script call (one call per entity costs ~15 us of Redis each)
      const [raw] = await roundTrip(this.client, [['applyOpsMany', [keys.length, ...keys, ...args]]]);
      replies = JSON.parse(String(raw)) as ApplyReply[];
    } else {
      // a cluster: one call per entity (each lives in its own slot)
      const raw = await roundTrip(this.client, keys.map((k, i) => ['applyOps', [k, args[i]!]] as Command));
      replies = raw.map((r) => JSON.parse(String(r)) as ApplyReply);
    }
    return replies.map((reply, i) => {
      const rules = list(reply.rules);
      const ruleStates: Record<string, RuleState> = {};
      for (let j = 0; j + 1 < rules.length; j += 2) ruleStates[rules[j]!] = JSON.parse(rules[j + 1]!) as RuleState;
      const samples: Record<number, number> = {};
      for (const [k, v] of Object.entries(record(reply.samples))) samples[Number(k)] = Number(v);
      const statuses = new Array<OpStatus>(reply.statuses.length);
      for (let j = 0; j < statuses.length; j++) statuses[j] = STATUS_OF[reply.statuses.charCodeAt(j)]!;
      return {
        tag: batches[i]!.tag,
        statuses,
        samples,
        closes: list(reply.closes).map(snapshotOf),
        snapshots: list(reply.snapshots).map(snapshotOf),
        ruleStates,
      };
    });
  }

  async saveRuleStates(updates: { tag: string; states: Record<string, RuleState | null> }[]): Promise<void> {
    // one script per entity: the states and the clearing of its journal of closes, atomically
    const commands: Command[] = updates.map((u) => {
      const set: Record<string, string> = {};
      const del: string[] = [];
      for (const [rule, s] of Object.entries(u.states)) {
        if (s === null) del.push(rule);
        else set[rule] = JSON.stringify(s);
      }
      return ['saveRuleStates', [this.keys.entity(u.tag), JSON.stringify({ set, del, ttlMs: RULE_STATE_TTL_MS })]];
    });
    await roundTrip(this.client, commands);
  }

  async readAudience(queries: AudienceQuery[]): Promise<AudienceMember[][]> {
    const commands: Command[] = [];
    for (const q of queries) {
      const key = q.kind === 'enroute' ? this.keys.enRoute(q.tag) : this.keys.contributors(q.tag, q.cpi ?? '');
      commands.push(['zrangebyscore', [key, q.since, q.until, 'WITHSCORES']]);
      if (q.kind === 'enroute') commands.push(['hgetall', [this.keys.eta(q.tag)]]);
    }
    const replies = await roundTrip(this.client, commands);
    let r = 0;
    return queries.map((q) => {
      const flat = replies[r++] as string[];
      const etas = q.kind === 'enroute' ? (replies[r++] as Record<string, string>) : {};
      const out: AudienceMember[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const customer = flat[i]!;
        const member: AudienceMember = { customer, time: Number(flat[i + 1]) };
        if (q.kind === 'enroute' && etas[customer] !== undefined) member.etaMs = Number(etas[customer]);
        out.push(member);
      }
      return out.sort((a, b) => a.time - b.time || (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0));
    });
  }

  async readFacts(tags: string[]): Promise<(Record<string, FactValue> | null)[]> {
    const replies = await roundTrip(this.client, tags.map((t) => ['hgetall', [this.keys.facts(t)]] as Command));
    return replies.map((raw) => {
      const fields = raw as Record<string, string>;
      const names = Object.keys(fields);
      if (names.length === 0) return null;
      return Object.fromEntries(names.map((k) => [k, JSON.parse(fields[k]!) as FactValue]));
    });
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

  async close(): Promise<void> {
    await this.client.quit().catch(() => undefined);
  }
}
