// The rules folder of a real `node bin/cpiwatch.js run` gets a FIFO named x.yaml and a symlink to a
// rule file outside the folder: hot reload skips both with one warning each (it used to block for
// good on the FIFO: later edits and SIGHUP ignored, and SIGTERM never finished), an edit of a real
// rule file is still applied, SIGHUP still reloads, and SIGTERM ends the process cleanly in time.
// A start with them already there is refused with CPW321 naming both (and does not block either).
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics, waitFor } from '../../support/index.js';
import { createProcessorTopics, testSettings } from '../../support/processor.js';
import { build, childEnv, ROOT, startChild, type Child } from './child.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;

// a CPI and a rule of their own: were the link followed, the rule set would have one rule more
const STOLEN = `cpis:
  - id: stolen-returns
    measure: { value: { event: return.completed, field: steps } }
    groupBy: channel
    window: 1d
    resolution: 1h
rules:
  - id: stolen-rule
    cpi: stolen-returns
    aggregate: avg
    threshold: { above: 4 }
    target: { contributors: {} }
    offer: { kind: apology, code: SORRY, title: Sorry, expiresAfter: 7d }
`;

describe('a FIFO and a symlink out of the folder in the rules folder of cpiwatch run', () => {
  const { settings, topics } = testSettings('rules-folder');
  const runs: Child[] = [];
  let base: string;
  let rules: string;
  let fifo: string;

  beforeAll(async () => {
    await build();
    base = await realpath(await mkdtemp(join(tmpdir(), 'cpiwatch-rules-folder-')));
    rules = join(base, 'rules');
    await cp(join(ROOT, 'rules'), rules, { recursive: true });
    await mkdir(join(base, 'outside'));
    await writeFile(join(base, 'outside', 'stolen.yaml'), STOLEN);
    fifo = join(rules, 'x.yaml');
    await createProcessorTopics(topics, 1);
  }, 150_000);

  afterAll(async () => {
    for (const r of runs) if (r.running()) r.process.kill('SIGKILL');
    // a reader blocked on the FIFO (a regression) would keep the child alive: a writer releases it
    try { closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK)); } catch { /* gone */ }
    await rm(base, { recursive: true, force: true });
    await deleteTopics(...Object.values(topics)).catch(() => undefined);
  });

  it('warns once for each, still hot-reloads a real edit and SIGHUP, and stops on SIGTERM in time', async () => {
    const r = startChild(childEnv(settings, { LOG_LEVEL: 'debug', SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms` }), { rules });
    runs.push(r);
    await r.waitForLog('watching rules for changes', 45_000);
    const started = await r.waitForLog('processor started', 45_000);
    const ruleCount = started.rules as number;
    const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(r.stderr.join(''))?.[1]);
    expect(port).toBeGreaterThan(0);
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: res.status, body: (await res.json()) as { checks: { rules: { detail: string } } } };
    };
    await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 30_000, what: 'ready' });

    // both appear while it runs; the change of the folder triggers reloads
    execFileSync('mkfifo', [fifo]);
    await symlink(join(base, 'outside', 'stolen.yaml'), join(rules, 'elsewhere.yaml'));
    const skipped = () => r.logs.filter((l) => l.msg === 'rule file skipped: not a regular file inside the rules folder');
    await waitFor(() => skipped().length >= 2, { timeoutMs: 15_000, what: 'a warning for each' });
    expect(skipped().map((l) => [l.level, l.file, l.code]).sort()).toEqual([['warn', join(rules, 'elsewhere.yaml'), 'CPW321'], ['warn', fifo, 'CPW321']]);
    expect(String(skipped().find((l) => l.file === fifo)!.reason)).toContain('is a FIFO (named pipe), not a regular file');
    expect(String(skipped().find((l) => l.file !== fifo)!.reason)).toContain(`is a symbolic link to ${join(base, 'outside', 'stolen.yaml')}, outside the rules folder ${rules}`);

    // an edit of a real rule file is applied (and the stolen rule is not in the set)
    const file = join(rules, 'curbside.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 1.3, clear: 1.0 }'));
    const reloaded = await r.waitForLog('rules reloaded', 15_000);
    expect(reloaded.rules).toBe(ruleCount);
    expect((await readyz()).body.checks.rules.detail).toBe(`${ruleCount} rules, version ${String(reloaded.version)}`);

    // SIGHUP still reloads (nothing changed since)
    r.process.kill('SIGHUP');
    await r.waitForLogWhere((l) => l.msg === 'rules unchanged' && l.trigger === 'signal', 'a reload on SIGHUP', 15_000);
    // still one warning per file, however many reloads there were
    expect(skipped()).toHaveLength(2);
    expect(r.logs.some((l) => l.msg === 'rule reload timed out; the previous rules keep running')).toBe(false);
    expect((await readyz()).status).toBe(200);

    const signalledAt = Date.now();
    r.process.kill('SIGTERM');
    const exit = await Promise.race([
      r.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within SHUTDOWN_TIMEOUT + 5 s')), SHUTDOWN_TIMEOUT_MS + 5000)),
    ]);
    console.log(`[rules-folder] SIGTERM with a FIFO in the rules folder: exit ${exit.code} in ${exit.at - signalledAt} ms`);
    expect(exit.code, r.stderr.join('')).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(r.logs.some((l) => l.msg === 'shut down cleanly')).toBe(true);
  });

  it('a start with them already there is refused at once with CPW321 naming both', async () => {
    const r = startChild(childEnv(settings, { LOG_LEVEL: 'debug' }), { rules });
    runs.push(r);
    const startedAt = Date.now();
    const exit = await Promise.race([
      r.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running: ${r.stderr.join('').slice(-500)}`)), 20_000)),
    ]);
    const err = r.stderr.join('');
    expect(exit.code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(err).toContain(`${fifo}: CPW321 cannot read rule file: ${fifo} is a FIFO (named pipe), not a regular file; not read`);
    expect(err).toContain(`${join(rules, 'elsewhere.yaml')}: CPW321 cannot read rule file: ${join(rules, 'elsewhere.yaml')} is a symbolic link to ${join(base, 'outside', 'stolen.yaml')}, outside the rules folder ${rules}; not followed`);
    expect(err).toMatch(/2 error\(s\) in .*; not starting/);
  });
});
