// A store whose waits go bad and that then sends nothing more (real broker, live event times): its
// rule fires on stream time, within `resolution + for + 5 s` of wall-clock time after its last
// event, both while another partition carries traffic and when every partition is idle (the idle
// marks move stream time). A step is evaluated once stream time is past it by the CPI's allowed
// lateness (every in-time event counted), so a CPI with a lateness reacts that much later: the
// third case, with 5 s of lateness, fires within `resolution + for + lateness + 5 s`. A fast rule
// (5 s buckets, `for: 5s`) keeps the test short; the shipped rules' 1 m / 2 m / 2 m are the same path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { produce, sleep, waitForMessages } from '../../support/index.js';
import { exampleRules, startProcessor, storeOn, testSettings, type RunningProcessor } from '../../support/processor.js';
import { curbsideDrinkRules } from '../../support/rule-texts.js';

const RESOLUTION_S = 5;
const FOR_S = 5;
const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

const rules = (latenessS: number) => curbsideDrinkRules('fast', { window: '1m', resolution: `${RESOLUTION_S}s`, allowedLateness: `${latenessS}s`, for: `${FOR_S}s`, cooldown: '1h' });

describe('a store that goes quiet after its waits go bad', () => {
  const running: RunningProcessor[] = [];
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
  });

  for (const [traffic, latenessS] of [[true, 0], [false, 0], [true, 5]] as const) {
    it(`fires within resolution + for${latenessS > 0 ? ` + lateness (${latenessS} s)` : ''} + 5 s of its last event, ${traffic ? 'while another partition carries traffic' : 'with every partition idle'}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-quiet-'));
      writeFileSync(join(dir, 'fast.yaml'), rules(latenessS));
      const { settings, topics } = testSettings(`quiet-${traffic ? 'busy' : 'idle'}-${latenessS}`);
      const r = await startProcessor({ settings, topics, ruleSet: await exampleRules([dir]), partitions: 3 });
      running.push(r);
      const p = settings.KAFKA_GROUP_ID.slice(-8);
      const quiet = storeOn(`${p}-quiet`, 0, 3);
      const busy = storeOn(`${p}-busy`, 1, 3);
      let n = 0;
      const event = (type: string, time: number, data: Record<string, unknown>, key: string) =>
        ({ key, value: JSON.stringify({ specversion: '1.0', id: `${p}-${++n}`, source: 'urn:cpiwatch:test', type, time: new Date(time).toISOString(), data }), headers: { 'content-type': CE_JSON } });

      const now = Date.now();
      await produce(topics.events, [
        event('store.profile', now - 60_000, { storeId: quiet, timeZone: 'Etc/UTC' }, quiet),
        event('customer.profile', now - 60_000, { customerId: `${p}-c1`, valueTier: 'gold', lifetimeValue: 1800 }, `${p}-c1`),
        event('customer.en-route', now - 30_000, { customerId: `${p}-c1`, storeId: quiet, etaSeconds: 900 }, quiet),
        ...[0, 1, 2, 3].map((i) => event('curbside.arrived', now - 40_000 + i * 1000, { orderId: `${p}-o${i}`, storeId: quiet, customerId: `${p}-w${i}`, promisedWaitSeconds: 10 }, quiet)),
      ]);
      // three times the promise, then nothing more from this store
      await produce(topics.events, [0, 1, 2, 3].map((i) => event('curbside.handed-over', Date.now(), { orderId: `${p}-o${i}`, storeId: quiet }, quiet)));
      const lastEventAt = Date.now();

      let stop = false;
      const other = traffic ? (async () => {
        for (let i = 0; !stop; i++) {
          await produce(topics.events, [event('curbside.arrived', Date.now(), { orderId: `${p}-b${i}`, storeId: busy, customerId: `${p}-v${i}`, promisedWaitSeconds: 300 }, busy)]);
          await sleep(200);
        }
      })() : Promise.resolve();
      try {
        const [offer] = await waitForMessages(topics.offers, 1, { timeoutMs: 60_000 });
        const firedAfterMs = Date.now() - lastEventAt;
        console.log(`[quiet store] ${traffic ? 'traffic elsewhere' : 'all idle'}, lateness ${latenessS} s: offer ${firedAfterMs} ms after the store's last event`);
        expect((offer!.json as { subject: string }).subject).toBe(`${p}-c1`);
        expect(firedAfterMs).toBeLessThanOrEqual((RESOLUTION_S + FOR_S + latenessS + 5) * 1000);
      } finally {
        stop = true;
        await other;
      }
    }, 120_000);
  }
});
