/**
 * The routing table of a rule set: for each event type, which CPIs it feeds and how. Built once per
 * (re)load so the hot path does a single map lookup per event.
 */
import type { CompiledCpi, EventMatcher, RuleSet } from '../rules/compiled.js';
import type { CpiWindowSpec } from '../store/state-store.js';
import { windowSpecOf } from '../windows/buckets.js';

export type RouteRole = 'value' | 'ratio' | 'start' | 'end';

export interface Route {
  cpi: CompiledCpi;
  role: RouteRole;
}

export interface Routing {
  byEventType: ReadonlyMap<string, readonly Route[]>;
  specs: ReadonlyMap<string, CpiWindowSpec>;
  /** CPIs whose contributing customers are kept (some rule targets `contributors`), with how long. */
  contributorKeepMs: ReadonlyMap<string, number>;
  /** How long en-route customers are kept (longest enRoute.within of any rule). */
  enRouteKeepMs: number;
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
  const contributorKeepMs = new Map<string, number>();
  let enRouteKeepMs = 0;
  for (const rule of ruleSet.rules) {
    if (rule.target.kind === 'contributors') {
      contributorKeepMs.set(rule.cpi.id, Math.max(contributorKeepMs.get(rule.cpi.id) ?? 0, rule.target.withinMs));
    } else if (rule.target.kind === 'enRoute') {
      enRouteKeepMs = Math.max(enRouteKeepMs, rule.target.withinMs);
    }
  }
  return { byEventType, specs, contributorKeepMs, enRouteKeepMs: enRouteKeepMs || DEFAULT_EN_ROUTE_KEEP_MS };
}
