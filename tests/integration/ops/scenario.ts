// Shared by the operations tests: the seeds' curbside scenario with unique ids, as Kafka messages,
// and what one uninterrupted instance decides on it (the real pipeline on the in-memory store).
import type { Decision } from '../../../src/actions/decision.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import type { Cluster, Redis } from 'ioredis';
import { runStagesInProcess } from '../../support/stages-in-process.js';
import { curbsideScenario, type Scenario, type ScenarioEvent } from '../../../src/samples/curbside-scenario.js';
import type { ProduceInput } from '../../support/index.js';

/** The curbside scenario 40 minutes ago, in a zone where it is midday (quiet hours stay out of it). */
export function opsScenario(idPrefix: string, options: { enRoutePerStore?: number; minutes?: number; stores?: number; busyStores?: number } = {}): Scenario & { profiles: ScenarioEvent[]; rest: ScenarioEvent[] } {
  const start = Date.now() - 40 * 60_000;
  const offset = 12 - new Date(start).getUTCHours();
  const timeZone = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  const scenario = curbsideScenario({ start, seed: 7, idPrefix, enRoutePerStore: 20, timeZone, ...options });
  const isProfile = (e: ScenarioEvent) => e.event.type.endsWith('.profile');
  return { ...scenario, profiles: scenario.events.filter(isProfile), rest: scenario.events.filter((e) => !isProfile(e)) };
}

export const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

export function asProduced(events: readonly ScenarioEvent[]): ProduceInput[] {
  return events.map((e) => ({ key: e.key, value: JSON.stringify(e.event), headers: { 'content-type': CE_JSON } }));
}

export function asRaw(events: readonly ScenarioEvent[], topic = 'events', firstOffset = 0): RawMessage[] {
  return events.map((e, i) => ({
    key: Buffer.from(e.key), value: Buffer.from(JSON.stringify(e.event)), headers: { 'content-type': CE_JSON },
    origin: { topic, partition: 0, offset: firstOffset + i },
  }));
}

/** Decisions of one uninterrupted instance: facts first, then everything else, as the tests produce them. */
export async function uninterrupted(ruleSet: RuleSet, scenario: { profiles: ScenarioEvent[]; rest: ScenarioEvent[] }): Promise<{ offered: Decision[]; decisions: Decision[] }> {
  const sink = new CollectingSink();
  const replay = createReplay(ruleSet, { sink, batchSize: 200 });
  await replay.feed(asRaw(scenario.profiles, 'events', 0));
  await replay.feed(asRaw(scenario.rest, 'events', scenario.profiles.length));
  await replay.finish();
  return { offered: sink.decisions.filter((d) => d.outcome === 'offered'), decisions: sink.decisions };
}

/** Offer ids the stream-time stages decide on a Redis (e.g. a cluster, or as an ACL user), in process. */
export async function offersOnStore(redis: Redis | Cluster, prefix: string, ruleSet: RuleSet, scenario: { profiles: ScenarioEvent[]; rest: ScenarioEvent[] }, batchSize = 100, partitions = 3): Promise<string[]> {
  const messages = [...asRaw(scenario.profiles, 'events', 0), ...asRaw(scenario.rest, 'events', scenario.profiles.length)];
  const decisions = await runStagesInProcess({ redis, prefix, ruleSet, messages, batchSize, partitions });
  return decisions.filter((d) => d.outcome === 'offered').map((d) => d.offerId).sort();
}
