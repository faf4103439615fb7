/**
 * Turns one customer event into state operations: window observations for every CPI it feeds, facts,
 * en-route customers and contributors. Pure: no I/O, no clock.
 */
import type { CloudEvent } from '../events/cloud-event.js';
import type { CpiMeasure } from '../rules/compiled.js';
import type { FactValue, StateOp, WindowOp } from './ops.js';
import { getPath } from './field-path.js';
import { predicateHolds } from './predicate.js';
import type { Route, Routing } from './routing.js';
import { customerTag, tagOf } from './tags.js';

export interface TaggedOp { tag: string; op: StateOp; cpi?: string }

/** A CPI could not use an otherwise valid event (e.g. the groupBy field is missing). */
export interface CpiIssue { cpi: string; field: string }

export interface Derived { ops: TaggedOp[]; issues: CpiIssue[] }

function scalar(v: unknown): string | number | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function factsOf(data: Record<string, unknown>, without: string): Record<string, FactValue> {
  const facts: Record<string, FactValue> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === without) continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') facts[k] = v;
  }
  return facts;
}

export function deriveOps(event: CloudEvent, routing: Routing): Derived {
  const ops: TaggedOp[] = [];
  const issues: CpiIssue[] = [];
  const data = event.data;
  const time = event.time;

  switch (event.type) {
    case 'customer.profile':
      ops.push({ tag: customerTag(String(data.customerId)), op: { kind: 'fact', time, facts: factsOf(data, 'customerId') } });
      break;
    case 'store.profile':
      ops.push({ tag: tagOf('storeId', String(data.storeId)), op: { kind: 'fact', time, facts: factsOf(data, 'storeId') } });
      break;
    case 'customer.en-route':
      ops.push({
        tag: tagOf('storeId', String(data.storeId)),
        op: { kind: 'enroute', time, customer: String(data.customerId), etaMs: Number(data.etaSeconds) * 1000, keepMs: routing.enRouteKeepMs },
      });
      break;
  }

  let customerField: string | undefined; // the type's role: customer field, looked up once per event
  for (const route of routing.byEventType.get(event.type) ?? []) {
    const op = opFor(route, event, issues);
    if (!op) continue;
    const cpi = route.cpi;
    const group = scalar(getPath(data, cpi.groupBy));
    if (group === undefined) { issues.push({ cpi: cpi.id, field: cpi.groupBy }); continue; }
    const tag = tagOf(cpi.groupBy, group);
    const customer = scalar(data[customerField ??= routing.eventTypes.get(event.type)?.customerField ?? 'customerId']);
    if (cpi.customers !== undefined) {
      // counted only for some customers: checked on their facts as of the event (a duration's half
      // without its customer follows the other half); a value or a ratio event needs its customer
      if (customer !== undefined) op.cust = String(customer);
      else if (op.kind !== 'start' && op.kind !== 'end') { issues.push({ cpi: cpi.id, field: customerField }); continue; }
    }
    ops.push({ tag, op, cpi: cpi.id });
    if (customer === undefined) continue;
    for (const a of routing.contributors.get(cpi.id) ?? []) {
      if (!predicateHolds(data, a.where)) continue;
      const id = String(customer);
      ops.push({ tag, op: { kind: 'contrib', time, cpi: a.audience, customer: id, keepMs: a.keepMs, ...(cpi.customers !== undefined ? { cust: id } : {}) }, cpi: cpi.id });
    }
  }
  return { ops, issues };
}

function opFor(route: Route, event: CloudEvent, issues: CpiIssue[]): WindowOp | undefined {
  const m: CpiMeasure = route.cpi.measure;
  const data = event.data;
  const cpi = route.cpi.id;
  const time = event.time;
  if (m.kind === 'value') {
    if (!predicateHolds(data, m.where)) return undefined;
    const value = getPath(data, m.field);
    if (typeof value !== 'number' || !Number.isFinite(value)) { issues.push({ cpi, field: m.field }); return undefined; }
    return { kind: 'sample', time, cpi, value };
  }
  if (m.kind === 'ratio') {
    const num = m.numerator.event === event.type && predicateHolds(data, m.numerator.where) ? 1 : 0;
    const den = m.denominator.event === event.type && predicateHolds(data, m.denominator.where) ? 1 : 0;
    return num || den ? { kind: 'count', time, cpi, num, den } : undefined;
  }
  const side = route.role === 'start' ? m.start : m.end;
  if (!predicateHolds(data, side.where)) return undefined;
  const key = scalar(getPath(data, side.correlate));
  if (key === undefined) { issues.push({ cpi, field: side.correlate }); return undefined; }
  if (route.role === 'end') return { kind: 'end', time, cpi, key: String(key), maxPendingMs: m.maxPendingMs };
  let divisorMs = m.unitMs;
  if (m.relativeTo !== undefined) {
    const expected = getPath(data, m.relativeTo);
    // at least a millisecond: a smaller divisor (5e-324) would make the sample infinite
    if (typeof expected === 'number' && Number.isFinite(expected) && expected >= 0.001) divisorMs = expected * 1000;
    else if (m.expectedFromScope !== undefined) {
      return {
        kind: 'start', time, cpi, key: String(key), divisorMs: null, divisorFact: m.expectedFromScope,
        ...(m.defaultExpectedMs !== undefined ? { fallbackDivisorMs: m.defaultExpectedMs } : {}), maxPendingMs: m.maxPendingMs,
      };
    } else if (m.defaultExpectedMs !== undefined) divisorMs = m.defaultExpectedMs;
    else { issues.push({ cpi, field: m.relativeTo }); return undefined; }
  }
  return { kind: 'start', time, cpi, key: String(key), divisorMs, maxPendingMs: m.maxPendingMs };
}
