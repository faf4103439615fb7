// CPW206 (EVENT_MISSING_FIELD): a valid curbside arrival without promisedWaitSeconds cannot feed a
// curbside wait CPI relative to that field with no fallback (the shipped rule's expectedFromScope
// and defaultExpected taken out). The routing stage reports it with the event's type; the
// processor's log says it once per CPI, field and event type, with the code.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CpiIssueLog } from '../../../src/ops/cpi-issues.js';
import { createLogger } from '../../../src/ops/logger.js';
import type { RouteSink } from '../../../src/pipeline/route-stage.js';
import { RouteStage } from '../../../src/pipeline/route-stage.js';
import { asMessages } from '../../support/local-run.js';
import { exampleRules } from '../../support/processor.js';

const arrival = (i: number, promised?: number) => ({
  specversion: '1.0', id: `a-${i}`, source: 'urn:test', type: 'curbside.arrived', time: '2026-01-05T15:00:00Z',
  data: { orderId: `o-${i}`, storeId: 'S1', customerId: `c-${i}`, ...(promised === undefined ? {} : { promisedWaitSeconds: promised }) },
});

describe('a valid event a CPI cannot use', () => {
  it('is reported with its type, and logged once with CPW206 however often it comes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpi-issues-'));
    writeFileSync(join(dir, 'curbside.yaml'), readFileSync('rules/curbside.yaml', 'utf8').replace(/^ *(expectedFromScope|defaultExpected):.*\n/gm, ''));
    const stage = new RouteStage(await exampleRules([dir]), { partitions: 1, limits: { maxBytes: 1_048_576 }, clock: () => Date.UTC(2026, 0, 6), maxFutureMs: 0 });
    const sink: RouteSink = { publish: async () => undefined, deadLetter: async () => undefined, forward: async () => undefined };
    const result = await stage.processBatch(asMessages([arrival(1), arrival(2, 300), arrival(3)]), 'e:0', { sink });
    expect(result.cpiIssues.map((i) => [i.eventId, i.eventType, i.field])).toEqual([['a-1', 'curbside.arrived', 'promisedWaitSeconds'], ['a-3', 'curbside.arrived', 'promisedWaitSeconds']]);
    expect(result.deadLetters).toEqual([]);

    let out = '';
    const log = createLogger('info', new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } }));
    const issues = new CpiIssueLog(log);
    issues.report(result.cpiIssues);
    issues.report(result.cpiIssues);
    await new Promise((r) => setTimeout(r, 20));
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { code: string; msg: string; eventId: string });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ code: 'CPW206', eventId: 'a-1' });
    expect(lines[0]!.msg).toMatch(/^event of type curbside\.arrived lacks field promisedWaitSeconds needed by CPI /);
  });
});
