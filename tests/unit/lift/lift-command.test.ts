// `cpiwatch lift` on NDJSON files, in process: what it prints, its JSON and HTML, unreadable input
// counted with its code (CPW504 for a decision record, CPW2xx for an event), usage errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LiftReport } from '../../../src/lift/report.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';
import { runCli } from '../../support/cli.js';
import { decisionEvent, liftScenario, ndjson, orderEvent } from '../../support/lift-scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-lift-'));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const T0 = Date.parse('2026-11-02T09:00:00Z');
const DAY = 86_400_000;

let decisions: string;
let events: string;
beforeAll(() => {
  const s = liftScenario({ customers: 400, holdout: 0.25, offered: 0.4, heldOut: 0.1, seed: 7 });
  decisions = file('decisions.ndjson', `${ndjson(s.decisions)}not json at all\n${JSON.stringify({ type: 'cpiwatch.decision.v1', data: {} })}\n`);
  events = file('events.ndjson', `${ndjson(s.events)}{"specversion":"1.0","id":"x","source":"s","type":"order.placed","time":"2026-11-03T00:00:00Z","data":{"orderId":"o"}}\n`);
});

const lift = (...extra: string[]) => runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--decisions', decisions, '--events', events, ...extra]);

describe('cpiwatch lift on NDJSON', () => {
  it('prints each rule\'s arms, the lift with its interval, and the unreadable records with their codes', async () => {
    const r = await lift();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^curbside-flash-drink \(version v-1a2b3c; /m);
    expect(r.out).toMatch(/^ {2}lift +\+\d+\.\d points \(95% Newcombe \+\d+\.\d to \+\d+\.\d\); the interval excludes 0: offered customers converted more$/m);
    expect(r.out).toContain('unreadable decision records: 2 (CPW504 2):');
    expect(r.out).toMatch(/decisions\.ndjson:\d+: CPW504 not an offer or decision event, skipped: not JSON/);
    expect(r.out).toMatch(/decisions\.ndjson:\d+: CPW504 not an offer or decision event, skipped: not a valid cpiwatch\.decision\.v1 event/);
    expect(r.out).toContain('unreadable events: 1 (CPW203 1):');
    expect(r.out).not.toMatch(/cust-\d+/); // customers only as counts
  });

  it('--json: the counts the scenario seeded, and the statistics', async () => {
    const s = liftScenario({ customers: 400, holdout: 0.25, offered: 0.4, heldOut: 0.1, seed: 7 });
    const r = await lift('--json', '--target-lift', '5%');
    const rep = JSON.parse(r.out) as LiftReport;
    const rule = rep.rules[0]!;
    expect([rule.treated.customers, rule.treated.converted, rule.heldOut.customers, rule.heldOut.converted]).toEqual([s.expected.offered, s.expected.offeredConverted, s.expected.heldOut, s.expected.heldOutConverted]);
    expect(rule.otherSuppressed).toEqual({ 'quiet-hours': s.expected.otherSuppressed });
    expect(rule.comparison.excludesZero).toBe(true);
    expect(rule.comparison.target!.rate).toBeCloseTo(rule.comparison.control.rate + 0.05, 10);
    expect(rep.decisions.unreadable.byCode).toEqual({ CPW504: 2 });
    expect(rep.events.unreadable.byCode).toEqual({ CPW203: 1 });
  });

  it('--treated assigned: the customers a later guardrail suppressed join the treated arm (intention to treat)', async () => {
    const s = liftScenario({ customers: 400, holdout: 0.25, offered: 0.4, heldOut: 0.1, seed: 7 });
    const json = JSON.parse((await lift('--json', '--treated', 'assigned')).out) as LiftReport;
    expect(json.treated).toBe('assigned');
    expect(json.rules[0]!.treated.customers).toBe(s.expected.offered + s.expected.otherSuppressed);
    expect(json.rules[0]!.heldOut.customers).toBe(s.expected.heldOut);
    expect(json.rules[0]!.otherSuppressed).toEqual({});
    const text = (await lift('--treated', 'assigned')).out;
    expect(text).toMatch(/^ {2}assigned +\d+ customers/m);
    expect(text).toContain('(intention to treat: every customer not held out is treated)');
  });

  it('--where filters the outcome events; --rule keeps only the rules named', async () => {
    const d = file('two.ndjson', ndjson([decisionEvent({ ruleId: 'a', customerId: 'c1', time: T0, outcome: 'offered' }), decisionEvent({ ruleId: 'b', customerId: 'c2', time: T0, outcome: 'suppressed', reason: 'holdout' })]));
    const e = file('orders.ndjson', ndjson([orderEvent('c1', T0 + DAY, 1, 'store'), orderEvent('c2', T0 + DAY, 1, 'web'), orderEvent('c3', T0 + 30 * DAY, 1)]));
    const run = async (...extra: string[]) => JSON.parse((await runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--decisions', d, '--events', e, '--json', ...extra])).out) as LiftReport;
    const web = await run('--where', 'channel=web');
    expect(web.rules.map((r) => [r.ruleId, r.treated.converted, r.heldOut.converted])).toEqual([['a', 0, 0], ['b', 0, 1]]);
    expect(web.outcome).toEqual({ type: 'order.placed', where: { channel: 'web' } });
    expect((await run('--rule', 'a')).rules.map((r) => r.ruleId)).toEqual(['a']);
  });

  it('reads the offers `cpiwatch backtest` prints and its --decisions output', async () => {
    const scenario = curbsideScenario({ start: Date.parse('2026-11-20T17:00:00Z'), seed: 5, stores: 3, busyStores: 2, enRoutePerStore: 12 });
    const events = file('curbside.ndjson', ndjson(scenario.events.map((e) => e.event)));
    const out = await runCli(['backtest', '--rules', 'rules/', '--events', events, '--decisions']);
    expect(out.code, out.err).toBe(0);
    const d = file('backtest.ndjson', out.out);
    const r = await runCli(['lift', '--outcome', 'customer.en-route', '--horizon', '5m', '--decisions', d, '--events', events, '--json']);
    const rep = JSON.parse(r.out) as LiftReport;
    expect(rep.decisions.unreadable.count).toBe(0);
    expect(rep.decisions.records).toBe(out.out.trim().split('\n').length);
    const flash = rep.rules.find((x) => x.ruleId === 'curbside-flash-drink')!;
    // the offer events of the rule, each customer once: the offered arm (complete or open)
    const offered = out.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: { customerId: string; rule: { id: string } } })
      .filter((e) => e.type === 'cpiwatch.offer.v1' && e.data.rule.id === 'curbside-flash-drink');
    expect(offered.length).toBeGreaterThan(0);
    expect(flash.treated.customers + flash.treated.open).toBe(new Set(offered.map((e) => e.data.customerId)).size);
  });

  it('--html writes a self-contained page: no script, nothing fetched, no customer id', async () => {
    const html = join(dir, 'lift.html');
    const r = await lift('--html', html);
    expect(r.err).toContain(`HTML report: ${html}`);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<h2>curbside-flash-drink</h2>');
    expect(page).toContain('the interval excludes 0');
    expect(page).toContain('CPW504');
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\/|cust-\d+/);
  });
});

describe('cpiwatch lift: bad input', () => {
  it('a rule id with markup is escaped in the HTML page', async () => {
    const ruleId = '<img src=x onerror=alert(1)>';
    const d = file('hostile.ndjson', ndjson([decisionEvent({ ruleId, customerId: 'c1', time: T0, outcome: 'offered' }), decisionEvent({ ruleId, customerId: 'c2', time: T0, outcome: 'suppressed', reason: 'holdout' })]));
    const e = file('hostile-events.ndjson', ndjson([orderEvent('c1', T0 + DAY, 1), orderEvent('c9', T0 + 30 * DAY, 1)]));
    const html = join(dir, 'hostile.html');
    const r = await runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--decisions', d, '--events', e, '--html', html]);
    expect(r.code, r.err).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain(ruleId);
  });


  it.each([
    [['--outcome', 'order.placd'], /unknown event type "order.placd" \(did you mean order.placed\?\)/],
    [['--outcome', 'store.profile'], /store.profile events name no customer/],
    [['--outcome', 'ces.answered'], /unknown event type "ces.answered"; a type your rules folder declares needs --rules <dir>/],
    [['--horizon', '7 days'], /--horizon must be a duration/],
    [['--where', 'chanel=web'], /order.placed has no field "chanel" \(did you mean channel\?\)/],
    [['--where', 'web'], /--where must be field=value/],
    [['--target-lift', '150%'], /--target-lift must be an absolute lift/],
    [['--from', '10'], /--from and --to apply to --decisions-topic only/],
  ])('%j is a usage error (CPW102, exit 2)', async (extra, message) => {
    const r = await runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--decisions', decisions, '--events', events, ...extra]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cpiwatch lift: CPW102 usage: /);
    expect(r.err).toMatch(message);
  });

  it('--rules: an outcome of a type the rules folder declares (rules/feedback-events.yaml), matched by its customer field', async () => {
    // customers who answered the effort survey within a week: of the scenario's decided customers, those seeded with an order
    const s = liftScenario({ customers: 400, holdout: 0.25, offered: 0.4, heldOut: 0.1, seed: 7 });
    const answers = s.events.filter((e) => e.type === 'order.placed').map((e, i) => ({
      specversion: '1.0', id: `ces-${i}`, source: 'urn:test:lift', type: 'ces.answered', time: e.time,
      data: { responseId: `r${i}`, customerId: (e.data as { customerId: string }).customerId, channel: 'chat', cesScore: 2 },
    }));
    const surveyed = file('answers.ndjson', ndjson(answers));
    const base = ['lift', '--horizon', '7d', '--decisions', decisions, '--json'];
    const byOrders = JSON.parse((await runCli([...base, '--outcome', 'order.placed', '--events', events])).out) as LiftReport;
    const r = await runCli([...base, '--outcome', 'ces.answered', '--rules', 'rules', '--events', surveyed, '--where', 'cesScore=2']);
    expect(r.code, r.err).toBe(0);
    const bySurvey = JSON.parse(r.out) as LiftReport;
    expect(bySurvey.outcome.type).toBe('ces.answered');
    // the same customers converted: each answered where the scenario seeded an order
    expect(bySurvey.rules.length).toBeGreaterThan(0);
    expect(bySurvey.rules.map((x) => [x.ruleId, x.treated, x.heldOut])).toEqual(byOrders.rules.map((x) => [x.ruleId, x.treated, x.heldOut]));
    expect((await runCli([...base, '--outcome', 'ces.answered', '--rules', 'rules', '--events', surveyed, '--where', 'cesScor=2'])).err).toMatch(/ces.answered has no field "cesScor" \(did you mean cesScore\?\)/);
  });

  it('needs one decisions input and one events input', async () => {
    expect((await runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--events', events])).err).toContain('give exactly one of --decisions and --decisions-topic');
    expect((await runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--decisions', decisions])).err).toContain('give exactly one of --events and --topic');
  });

  it('a missing file: exit 1 with the reason', async () => {
    const r = await runCli(['lift', '--outcome', 'order.placed', '--horizon', '7d', '--decisions', join(dir, 'nope.ndjson'), '--events', events]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cpiwatch lift: cannot read .*ENOENT/);
  });
});
