// `cpiwatch run` serves the live page and prints its address; on a non-loopback bind without a
// token it warns at start and answers 403 there, while /metrics stays served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics, waitFor } from '../../support/index.js';
import { createProcessorTopics, testSettings } from '../../support/processor.js';
import { REFUSED_MESSAGE } from '../../../src/ops/live/live-routes.js';
import { build, childEnv, startChild, type Child } from './child.js';

describe('cpiwatch run: the live page', () => {
  const { settings, topics } = testSettings('live-run');
  const runs: Child[] = [];

  beforeAll(async () => {
    await build();
    await createProcessorTopics(topics);
  }, 180_000);

  afterAll(async () => {
    for (const r of runs) if (r.running()) { r.process.kill('SIGTERM'); await r.exited; }
    await deleteTopics(...Object.values(topics)).catch(() => undefined);
  });

  it('prints the address of the live page, which answers there', async () => {
    const r = startChild(childEnv(settings));
    runs.push(r);
    const url = await waitFor(() => /live page (http:\/\/127\.0\.0\.1:\d+\/live)/.exec(r.stderr.join(''))?.[1], { timeoutMs: 60_000, what: 'the live page address on stderr' });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>cpiwatch live</title>');
    const json = (await (await fetch(`${url}.json`)).json()) as { ruleSet: { rules: number } };
    expect(json.ruleSet.rules).toBeGreaterThan(0);
    r.process.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  }, 90_000);

  it('on 0.0.0.0 without a token: a warning at start, 403 on /live, /metrics still served', async () => {
    const r = startChild(childEnv(settings, { HTTP_HOST: '0.0.0.0', KAFKA_GROUP_ID: `${settings.KAFKA_GROUP_ID}-b`, EMAIL_GROUP_ID: `${settings.EMAIL_GROUP_ID}-b` }));
    runs.push(r);
    const warning = await r.waitForLogWhere((l) => typeof l.msg === 'string' && l.msg.startsWith(REFUSED_MESSAGE), 'the refusal warning', 60_000);
    expect(warning.level).toBe('warn');
    const port = await waitFor(() => /:(\d+)\/metrics/.exec(r.stderr.join(''))?.[1], { timeoutMs: 60_000, what: 'the metrics address' });
    expect(r.stderr.join('')).not.toContain('live page');
    expect((await fetch(`http://127.0.0.1:${port}/live`)).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    r.process.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  }, 90_000);
});
