/**
 * The routing table of a rule set: for each event type, which CPIs it feeds and how. Built once per
 * (re)load so the hot path does a single map lookup per event.
 */
import { closeGroupsOf, closeLatenessOf } from '../rules/close-groups.js';
import type { CompiledCpi, EventMatcher, Predicate, RuleSet } from '../rules/compiled.js';
import { windowSpecOf, type CpiWindowSpec } from '../windows/window-spec.js';
// the event types travel with the routing: the route stage decodes with the rule set's
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import type { EventTypeRegistry } from '../events/registry.js';

export type RouteRole = 'value' | 'ratio' | 'start' | 'end';

export interface Route {
  cpi: CompiledCpi;
  role: RouteRole;
}

export interface ContributorAudience {
  audience: string;
  keepMs: number;
  where?: Predicate;
}

export interface Routing {
  byEventType: ReadonlyMap<string, readonly Route[]>;
  specs: ReadonlyMap<string, CpiWindowSpec>;
  /** Per CPI, the contributor audiences some rule targets: which events count, kept how long. */
  contributors: ReadonlyMap<string, readonly ContributorAudience[]>;
  /** How long en-route customers are kept (longest enRoute.within of any rule). */
  enRouteKeepMs: number;
  /** The event types events are decoded with (the rule set's; swapped with it on reload). */
  eventTypes: EventTypeRegistry;
}

const DEFAULT_EN_ROUTE_KEEP_MS = 2 * 3_600_000;

export function buildRouting(ruleSet: RuleSet): Routing {
  const byEventType = new Map<string, Route[]>();
  const add = (m: EventMatcher, route: Route) => {
    const list = byEventType.get(m.event) ?? [];
    if (!list.some((r) => r.cpi === route.cpi && r.role === route.role)) list.push(route);
    byEventType.set(m.event, list);
  };
  const specs = new Map<string, CpiWindowSpec>();
  for (const cpi of ruleSet.cpis.values()) {
    specs.set(cpi.id, windowSpecOf(cpi));
    const m = cpi.measure;
    if (m.kind === 'value') add(m, { cpi, role: 'value' });
    else if (m.kind === 'ratio') { add(m.numerator, { cpi, role: 'ratio' }); add(m.denominator, { cpi, role: 'ratio' }); }
    else { add(m.start, { cpi, role: 'start' }); add(m.end, { cpi, role: 'end' }); }
  }
  const contributors = new Map<string, ContributorAudience[]>();
  const groups = closeGroupsOf(ruleSet);
  let enRouteKeepMs = 0;
  for (const rule of ruleSet.rules) {
    const t = rule.target;
    // a close reads the audience of `within` before its boundary, up to its close group's lateness after it
    const lateness = closeLatenessOf(groups, rule.cpi.id);
    if (t.kind === 'contributors') {
      const list = contributors.get(rule.cpi.id) ?? [];
      const same = list.find((a) => a.audience === t.audience);
      if (same) same.keepMs = Math.max(same.keepMs, t.withinMs + lateness);
      else list.push({ audience: t.audience, keepMs: t.withinMs + lateness, ...(t.where ? { where: t.where } : {}) });
      contributors.set(rule.cpi.id, list);
    } else if (rule.target.kind === 'enRoute') {
      enRouteKeepMs = Math.max(enRouteKeepMs, rule.target.withinMs + lateness);
    }
  }
  return { byEventType, specs, contributors, enRouteKeepMs: enRouteKeepMs || DEFAULT_EN_ROUTE_KEEP_MS, eventTypes: ruleSet.eventTypes ?? BUILTIN_EVENT_TYPES };
}
