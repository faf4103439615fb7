/**
 * Step 4 of a batch: who may get an offer. When a rule fires: its audience at the fire time (customers
 * en route to the store, or the customers whose events fed the CPI, or the scope's own customer).
 * While it keeps firing: customers who set out for the store (or contributed) during the episode.
 * The decision time is the fire time, or when the customer joined if later. The same customers, at
 * the same times, whatever the batching: a member joining between the fire time and the event that
 * closes the bucket, or arriving late, is found by whichever batch sees both it and the episode.
 */
import { offerIdOf } from '../actions/offer-id.js';
import { parseTag } from '../cpis/tags.js';
import type { AudienceQuery, StateStore, TagBatch } from '../store/state-store.js';
import type { Episode } from './evaluate-closes.js';
import type { PreparedEvent } from './prepare-batch.js';

export interface Candidate {
  offerId: string;
  episode: Episode;
  customerId: string;
  /** Decision time (event time). */
  time: number;
  traceparent?: string;
}

export async function findCandidates(
  episodes: Episode[], tagBatches: TagBatch[], events: PreparedEvent[], store: StateStore,
): Promise<Candidate[]> {
  const out = new Map<string, Candidate>();
  // Each candidate's place in the event stream: the index (in this batch) of the event that made
  // it a candidate. The stateful guardrails (cooldowns, caps, budgets) take candidates in that
  // order, so a batch decides in the order events arrive one by one, whatever the batching.
  const seq = new Map<string, number>();
  const add = (episode: Episode, customerId: string, time: number, at: number, traceparent?: string) => {
    const offerId = offerIdOf(episode.rule.id, customerId, episode.tag, episode.start);
    if (!out.has(offerId)) { out.set(offerId, { offerId, episode, customerId, time, ...(traceparent ? { traceparent } : {}) }); seq.set(offerId, at); }
  };
  const eventAt = new Map<string, number>();
  const lastJoin = new Map<string, number>();
  events.forEach((pe, i) => {
    for (const [b, o] of pe.ops) {
      eventAt.set(`${b}:${o}`, i);
      const op = tagBatches[b]!.ops[o]!;
      if (op.kind === 'enroute' || op.kind === 'contrib') lastJoin.set(`${tagBatches[b]!.tag}\u0000${op.customer}`, i);
    }
  });
  /** The event whose observation closed the bucket that fired (the first at or after the fire time). */
  const triggerOf = (ep: Episode): number => {
    const b = tagBatches.findIndex((tb) => tb.tag === ep.tag);
    const ops = b < 0 ? [] : tagBatches[b]!.ops;
    for (let o = 0; o < ops.length; o++) {
      const op = ops[o]!;
      if ((op.kind === 'sample' || op.kind === 'count' || op.kind === 'end') && op.cpi === ep.rule.cpi.id && op.time >= ep.start) return eventAt.get(`${b}:${o}`) ?? events.length;
    }
    return events.length;
  };
  const joinedAt = (ep: Episode, customer: string, fired: number) => Math.max(fired, lastJoin.get(`${ep.tag}\u0000${customer}`) ?? -1);

  // Audiences at fire time: one round trip for all episodes that fired in this batch.
  const queries: { episode: Episode; query: AudienceQuery }[] = [];
  for (const ep of episodes) {
    if (!ep.firedNow) continue;
    const t = ep.rule.target;
    // Up to the episode's end, not its start: members already applied that joined after the fire
    // time (the bucket close is evaluated only when a later event arrives) belong to it too.
    const until = ep.end === null ? Number.MAX_SAFE_INTEGER : ep.end - 1;
    if (t.kind === 'enRoute') queries.push({ episode: ep, query: { tag: ep.tag, kind: 'enroute', since: ep.start - t.withinMs, until } });
    else if (t.kind === 'contributors') queries.push({ episode: ep, query: { tag: ep.tag, kind: 'contrib', cpi: t.audience, since: ep.start - t.withinMs, until } });
    else add(ep, parseTag(ep.tag).value, ep.start, triggerOf(ep), traceOf(events, ep.tag, ep.start, tagBatches));
  }
  if (queries.length > 0) {
    const audiences = await store.readAudience(queries.map((q) => q.query));
    audiences.forEach((members, i) => {
      const ep = queries[i]!.episode;
      const trace = traceOf(events, ep.tag, ep.start, tagBatches);
      const fired = triggerOf(ep);
      for (const m of members) {
        // skip customers who had already arrived when the breach began
        if (m.etaMs !== undefined && m.time + m.etaMs < ep.start) continue;
        add(ep, m.customer, Math.max(ep.start, m.time), joinedAt(ep, m.customer, fired), trace);
      }
    });
  }

  // Customers joining during an episode: en-route and contributor ops of this batch.
  const byTag = new Map<string, Episode[]>();
  for (const ep of episodes) byTag.set(ep.tag, [...(byTag.get(ep.tag) ?? []), ep]);
  for (const pe of events) {
    for (const [b, o] of pe.ops) {
      const batch = tagBatches[b]!;
      const op = batch.ops[o]!;
      if (op.kind !== 'enroute' && op.kind !== 'contrib') continue;
      for (const ep of byTag.get(batch.tag) ?? []) {
        const kind = ep.rule.target.kind;
        if ((kind === 'enRoute' && op.kind !== 'enroute') || (ep.rule.target.kind === 'contributors' && (op.kind !== 'contrib' || op.cpi !== ep.rule.target.audience))) continue;
        if (kind === 'scopeCustomer') continue;
        if (ep.end !== null && op.time >= ep.end) continue;
        if (op.time <= ep.start) {
          // A late arrival the fire-time audience would have held (an episode that fired in this
          // batch read its audience after this batch's ops were applied).
          const within = (ep.rule.target as { withinMs: number }).withinMs;
          if (ep.firedNow || op.time < ep.start - within) continue;
          if (op.kind === 'enroute' && op.time + op.etaMs < ep.start) continue;
        }
        add(ep, op.customer, Math.max(ep.start, op.time), eventAt.get(`${b}:${o}`)!, pe.event.traceparent);
      }
    }
  }
  // stable: candidates of one event keep their order (episodes, then audience by time and customer)
  return [...out.values()].sort((a, b) => seq.get(a.offerId)! - seq.get(b.offerId)!);
}

/** Trace context for a fire: the first event of the scope at or after the fire time. */
function traceOf(events: PreparedEvent[], tag: string, at: number, tagBatches: TagBatch[]): string | undefined {
  for (const pe of events) {
    if (pe.event.time < at || !pe.event.traceparent) continue;
    if (pe.ops.some(([b]) => tagBatches[b]!.tag === tag)) return pe.event.traceparent;
  }
  return undefined;
}
