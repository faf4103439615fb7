// No ops record exceeds its size limit, however large the input batch: a batch's record for one
// owner is split between events, and the owner applying the parts ends exactly where the whole
// record takes it (evaluations, counts, stream time).
import { describe, expect, it } from 'vitest';
import { decodeOpRecord, encodeOpRecords } from '../../../src/pipeline/op-records.js';
import { PartitionTask } from '../../../src/pipeline/partition-task.js';
import { RouteStage } from '../../../src/pipeline/route-stage.js';
import { taskRulesOf } from '../../../src/pipeline/task-rules.js';
import { SourceRouter } from '../../../src/pipeline/route.js';
import { buildRouting } from '../../../src/cpis/routing.js';
import { mixedScenario } from '../../../src/samples/mixed-scenario.js';
import { exampleRules } from '../../support/processor.js';

describe('ops records of a large batch', () => {
  it('are split to the limit, and the parts apply as the whole record does', async () => {
    const ruleSet = await exampleRules();
    const routing = buildRouting(ruleSet);
    const rules = taskRulesOf(ruleSet, routing);
    const day = mixedScenario({ start: Date.UTC(2026, 10, 20, 15), seed: 2, minutes: 60, customers: 500 });
    const messages = day.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } }));
    const record = new SourceRouter(0, 1).route(messages, routing, { limits: { maxBytes: 1_048_576 }, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 }).records.get(0)!;
    const parts = encodeOpRecords(record, 20_000);
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(20_000);

    const apply = (values: Buffer[]) => {
      const task = new PartitionTask(0, 1);
      const evaluations: string[] = [];
      const counts = { applied: 0, late: 0, duplicate: 0, unmatched: 0 };
      values.forEach((v, offset) => {
        const out = task.process(rules, [{ offset, record: decodeOpRecord(v) }]);
        evaluations.push(...out.evaluations.map((e) => `${e.ruleId} ${e.scopeTag} ${e.at} ${e.value} ${e.transition ?? ''}`));
        for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += out.counts[k];
      });
      return { evaluations, counts, now: task.now, waiting: task.waiting.map((c) => c.offerId) };
    };
    const whole = apply(encodeOpRecords(record, Number.POSITIVE_INFINITY));
    expect(whole.evaluations.length).toBeGreaterThan(100);
    expect(apply(parts)).toEqual(whole);
  });

  it('the routing stage forwards parts within its limit', async () => {
    const stage = new RouteStage(await exampleRules(), { partitions: 2, limits: { maxBytes: 1_048_576 }, clock: () => Number.MAX_SAFE_INTEGER, maxFutureMs: 0, maxRecordBytes: 8_000 });
    const day = mixedScenario({ start: Date.UTC(2026, 10, 20, 15), seed: 3, minutes: 20, customers: 100 });
    const messages = day.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } }));
    const forwarded: { partition: number; value: Buffer }[] = [];
    await stage.processBatch(messages, 'e:0', { sink: { publish: async () => undefined, deadLetter: async () => undefined, forward: async (r) => { forwarded.push(...r); } } });
    expect(forwarded.length).toBeGreaterThan(4);
    for (const r of forwarded) expect(Buffer.byteLength(r.value)).toBeLessThanOrEqual(8_000);
    const events = forwarded.flatMap((r) => decodeOpRecord(r.value).events.filter((e) => e.c !== 0).map((e) => e.id));
    expect(new Set(events).size).toBe(new Set(day.events.map((e) => e.event.id)).size);
  });
});
