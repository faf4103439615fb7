/**
 * Valid events a CPI cannot use (their type lacks the CPI's groupBy, value or join field: CPW206
 * EVENT_MISSING_FIELD). Each is counted (cpiwatch_cpi_field_missing_total); the first of each CPI,
 * field and event type is logged at `warn` with the code, so a producer that stopped sending a field
 * shows in the log once, not once per event.
 */
import { ErrorCodes } from '../errors/codes.js';
import { messageOf } from '../errors/cpiwatch-error.js';
import type { CpiIssueRecord } from '../pipeline/types.js';
import type { Logger } from './logger.js';

/** Distinct (CPI, field, type) kept for the once-only warning; beyond it, counted only. */
const MAX_KEYS = 10_000;

export class CpiIssueLog {
  private readonly seen = new Set<string>();

  constructor(private readonly log: Logger) {}

  report(issues: readonly CpiIssueRecord[]): void {
    for (const i of issues) {
      const key = `${i.cpi}\u0000${i.field}\u0000${i.eventType}`;
      if (this.seen.has(key) || this.seen.size >= MAX_KEYS) continue;
      this.seen.add(key);
      this.log.warn({ code: ErrorCodes.EVENT_MISSING_FIELD.code, eventId: i.eventId, reason: `cpi ${i.cpi}, field ${i.field}` }, messageOf('EVENT_MISSING_FIELD', i.eventType, i.field, i.cpi));
    }
  }
}
