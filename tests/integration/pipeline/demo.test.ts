// The README quick start's main job, `cpiwatch demo` (what `npm run demo` runs once the stack is
// up): on the real broker, Redis and an SMTP server, it prints offers for the slow store only and
// waits until the e-mail channel has sent one e-mail per offer before it reports and exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, services, startSmtpServer, type TestSmtpServer } from '../../support/index.js';

describe('cpiwatch demo (the quick start)', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp?.stop();
  });

  it('replays the curbside scenario and prints the slow store\'s offers and the e-mails sent', async () => {
    const { kafkaBrokers, redisUrl } = services();
    const { code, out, err } = await runCli(['demo', '--timeout', '90'], { KAFKA_BROKERS: kafkaBrokers.join(','), REDIS_URL: redisUrl, SMTP_URL: smtp.url, LOG_LEVEL: 'silent' });
    expect(code, err).toBe(0);
    const offers = out.split('\n').filter((l) => l.startsWith('offer '));
    expect(offers.length).toBeGreaterThan(0);
    const slow = /slow store\(s\): (\S+)\./.exec(err)?.[1];
    expect(slow, err).toBeDefined();
    for (const o of offers) expect(o).toContain(`at storeId=${slow})`);
    expect(err).toContain(`${offers.length} offer(s) published`);
    expect(err).toContain(`${offers.length} of ${offers.length} offer e-mail(s) sent over SMTP`);
    expect(smtp.messages).toHaveLength(offers.length);
    const offerIds = offers.map((l) => l.split(/\s+/)[1]).sort();
    expect(smtp.messages.map((m) => m.headers['x-cpiwatch-offer-id']).sort()).toEqual(offerIds);
  }, 120_000);
});
