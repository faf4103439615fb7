/**
 * BENCH_CURVE=1: scaling curves (called from bench/index.ts, which passes its pieces in a BenchKit).
 * Each point is a throughput run of bench/index.ts (a fresh `cpiwatch run` on a fresh topic and
 * group, events/s from the first to the last event applied) on the input of bench/curve-input.ts:
 *  (a) rules: 1, 10, 100, 1,000 rules over 20 CPIs (BENCH_CURVE_RULES), only rule 0 fed by the events;
 *  (b) scopes: 1,000 to 100,000 stores + customers (BENCH_CURVE_SCOPES; 1,000,000 if asked), half each;
 *  (c) window: 15 min to 24 h at 1 min resolution (BENCH_CURVE_WINDOWS), input over 24 h of event time.
 * BENCH_CURVE_EVENTS events per point (default 100,000; a scopes point has at least 2 per scope).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import type { ScenarioEvent } from '../src/samples/curbside-scenario.js';
import { curveEvents, curveRuleFiles } from './curve-input.js';
import type { ThroughputRun } from './index.js';

/** What bench/index.ts lends the curve and the takeover measurement. */
export interface CurveKit {
  id: string;
  kafka: Kafka;
  partitions: number;
  log(msg: string): void;
  createTopics(kafka: Kafka, topics: { topic: string; numPartitions: number }[]): Promise<void>;
  deleteTopics(kafka: Kafka, topics: string[]): Promise<void>;
  /** Produces the events keyed by their scenario key. */
  produce(producer: Producer, topic: string, events: readonly ScenarioEvent[]): Promise<void>;
  /** One throughput run of a fresh processor with these rules on the topic (see bench/index.ts). */
  throughput(topic: string, total: number, scopes: number, run: number, label: string, rulesDir: string): Promise<ThroughputRun>;
}

export interface CurvePoint {
  curve: 'rules' | 'scopes' | 'window';
  x: number | string;
  events: number; scopes: number; rules: number; window: string;
  eventsPerSecond: number; seconds: number; peakRssBytes: number; redisBytesPerThousandScopes: number;
  /** CPU seconds of the processor and of Redis per 1,000 events. */
  cpiwatchCpuMsPerThousand: number; redisCpuMsPerThousand: number;
}

const list = (name: string, dflt: string) => (process.env[name] ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);

export async function runCurves(kit: CurveKit): Promise<CurvePoint[]> {
  const events = Number(process.env.BENCH_CURVE_EVENTS ?? 100_000);
  const points: CurvePoint[] = [];
  let run = 100;
  const point = async (curve: CurvePoint['curve'], x: number | string, o: { rules: number; window: string; scopes: number; spanMs: number }) => {
    const total = Math.max(events, 2 * o.scopes);
    const stores = Math.max(1, Math.floor(o.scopes / 2));
    const evs = curveEvents({ events: total, stores, customers: o.scopes - stores, start: Date.now() - o.spanMs - 60 * 60_000, spanMs: o.spanMs, idPrefix: `cv${++run}` });
    const topic = `bench.${kit.id}.curve-${run}`;
    const rulesDir = mkdtempSync(join(os.tmpdir(), 'cpiwatch-curve-rules-'));
    for (const f of curveRuleFiles({ rules: o.rules, window: o.window, resolution: '1m' })) writeFileSync(join(rulesDir, f.name), f.text);
    await kit.createTopics(kit.kafka, [{ topic, numPartitions: kit.partitions }]);
    try {
      const producer = kit.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await kit.produce(producer, topic, evs).finally(() => producer.disconnect());
      const t = await kit.throughput(topic, evs.length, o.scopes, run, `curve-${curve}-${x}`, rulesDir);
      const p: CurvePoint = {
        curve, x, events: evs.length, scopes: o.scopes, rules: o.rules, window: o.window,
        eventsPerSecond: Math.round(t.eventsPerSecond), seconds: Math.round(t.seconds * 10) / 10, peakRssBytes: t.peakRssBytes, redisBytesPerThousandScopes: t.redisBytesPerThousandScopes,
        cpiwatchCpuMsPerThousand: Math.round((t.cpuSeconds.cpiwatch / evs.length) * 1e6), redisCpuMsPerThousand: Math.round((t.cpuSeconds.redis / evs.length) * 1e6),
      };
      kit.log(`curve ${curve} ${x}: ${p.events} events, ${p.eventsPerSecond} events/s, peak RSS ${(p.peakRssBytes / 1048576).toFixed(0)} MB, CPU per 1,000 events: cpiwatch ${p.cpiwatchCpuMsPerThousand} ms, redis ${p.redisCpuMsPerThousand} ms`);
      points.push(p);
    } finally {
      rmSync(rulesDir, { recursive: true, force: true });
      await kit.deleteTopics(kit.kafka, [topic]);
    }
  };
  const hour = 60 * 60_000;
  for (const r of list('BENCH_CURVE_RULES', '1,10,100,1000')) await point('rules', Number(r), { rules: Number(r), window: '15m', scopes: 2000, spanMs: hour });
  for (const s of list('BENCH_CURVE_SCOPES', '1000,10000,100000')) await point('scopes', Number(s), { rules: 1, window: '15m', scopes: Number(s), spanMs: hour });
  for (const w of list('BENCH_CURVE_WINDOWS', '15m,1h,4h,24h')) await point('window', w, { rules: 1, window: w, scopes: 2000, spanMs: 24 * hour });
  return points;
}

/** The curves as markdown tables, one per curve. */
export function curveTables(points: readonly CurvePoint[]): string {
  const out: string[] = [];
  for (const curve of ['rules', 'scopes', 'window'] as const) {
    const ps = points.filter((p) => p.curve === curve);
    if (ps.length === 0) continue;
    out.push('', `| ${curve} | events | events/s | cpiwatch CPU ms / 1,000 events | Redis CPU ms / 1,000 events | peak RSS | Redis bytes / 1,000 scopes |`, '| --- | --- | --- | --- | --- | --- | --- |');
    for (const p of ps) out.push(`| ${typeof p.x === 'number' ? p.x.toLocaleString('en') : p.x} | ${p.events.toLocaleString('en')} | ${p.eventsPerSecond.toLocaleString('en')} | ${p.cpiwatchCpuMsPerThousand} | ${p.redisCpuMsPerThousand} | ${(p.peakRssBytes / 1048576).toFixed(0)} MB | ${p.redisBytesPerThousandScopes.toLocaleString('en')} |`);
  }
  return out.join('\n');
}
