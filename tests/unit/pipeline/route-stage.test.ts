import { describe, expect, it } from 'vitest';
import { decodeOpRecord } from '../../../src/pipeline/op-records.js';
import { sourceWatermarkOf } from '../../../src/pipeline/source-watermark.js';
import { RouteStage } from '../../../src/pipeline/route-stage.js';
import type { RouteSink } from '../../../src/pipeline/route-stage.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';
import { asMessages } from '../../support/local-run.js';
import { exampleRules } from '../../support/processor.js';

describe('a routing stage that starts again', () => {
  it('takes a source watermark from the owners\' persisted metas: the newest any owner applied', () => {
    const meta = (marks: (number | null)[]) => JSON.stringify({ marks: marks.map((watermark) => ({ watermark, idle: false })), now: null, applied: 0 });
    expect(sourceWatermarkOf([meta([100, 50]), null, meta([120, null])], 0)).toBe(120);
    expect(sourceWatermarkOf([meta([100, 50]), meta([90, null])], 1)).toBe(50);
    expect(sourceWatermarkOf([null, meta([null, null])], 1)).toBeNull();
  });

  it('seeds a router so its idle marks carry on from there, and never moves one back', async () => {
    const stage = new RouteStage(await exampleRules(), { partitions: 2, limits: { maxBytes: 1_048_576 }, clock: () => Number.MAX_SAFE_INTEGER, maxFutureMs: 0 });
    expect(stage.idle(0, 1000).map((r) => decodeOpRecord(r.value).watermark)).toEqual([null, null]); // nothing to report
    stage.seed(1, 5000);
    expect(stage.watermark(1)).toBe(5000);
    stage.seed(1, 4000);
    expect(stage.watermark(1)).toBe(5000);
    const marks = stage.idle(1, 250).map((r) => ({ partition: r.partition, ...decodeOpRecord(r.value) }));
    expect(marks.map((m) => [m.partition, m.source, m.watermark, m.idle])).toEqual([[0, 1, 5250, true], [1, 1, 5250, true]]);
  });

  it('says a source it takes over is active at its seeded watermark (its owners may think it idle)', async () => {
    const stage = new RouteStage(await exampleRules(), { partitions: 2, limits: { maxBytes: 1_048_576 }, clock: () => Number.MAX_SAFE_INTEGER, maxFutureMs: 0 });
    expect(stage.active(0)).toEqual([]); // nothing known of it: nothing to hold
    stage.seed(0, 7000);
    expect(stage.active(0).map((r) => ({ partition: r.partition, ...decodeOpRecord(r.value) })).map((m) => [m.partition, m.source, m.watermark, m.idle])).toEqual([[0, 0, 7000, false], [1, 0, 7000, false]]);
  });
});


describe('a routing batch that fails', () => {
  it('is undone: routed again it gives the records it would have given the first time (watermarks and marks included)', async () => {
    const rules = await exampleRules();
    const events = curbsideScenario({ start: Date.UTC(2026, 0, 5, 12), stores: 2, minutes: 20, seed: 3 }).events.map((e) => e.event);
    const messages = asMessages(events);
    const options = { partitions: 3, limits: { maxBytes: 1_048_576 }, clock: () => Number.MAX_SAFE_INTEGER, maxFutureMs: 0 };
    const sink = (out: string[][], fail = false): RouteSink => ({
      publish: async () => undefined, deadLetter: async () => undefined,
      forward: async (records) => { if (fail) throw new Error('the transaction failed'); out.push(records.map((r) => `${r.partition} ${r.value}`)); },
    });
    const half = Math.floor(messages.length / 2);
    const once: string[][] = [];
    const clean = new RouteStage(rules, options);
    await clean.processBatch(messages.slice(0, half), 'e:0', { sink: sink(once) });
    await clean.processBatch(messages.slice(half), 'e:0', { sink: sink(once) });

    const retried: string[][] = [];
    const stage = new RouteStage(rules, options);
    await stage.processBatch(messages.slice(0, half), 'e:0', { sink: sink(retried) });
    await expect(stage.processBatch(messages.slice(half), 'e:0', { sink: sink([], true) })).rejects.toThrow('the transaction failed');
    stage.abandon('e:0');
    await stage.processBatch(messages.slice(half), 'e:0', { sink: sink(retried) });
    expect(retried).toEqual(once);
    expect(stage.watermark(0)).toBe(clean.watermark(0));
  });
});
