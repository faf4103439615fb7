// Hot reload next to things that are not rule files: a FIFO named x.yaml and a symlink out of the
// folder are skipped with one warning each (not one per reload), edits of the real files still load,
// and a reload that hangs is abandoned after its timeout without blocking the next ones.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { cp, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchProcessorRules, type ReloadResult, type RulesLoader, type RulesWatcher } from '../../../src/app/rules-watcher.js';
import { createLogger } from '../../../src/ops/logger.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { exampleRules } from '../../support/processor.js';
import { fakeProcessor } from '../../support/rules-watcher.js';

let base: string;
let dir: string;
let watcher: RulesWatcher | undefined;
const fifos: string[] = [];

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { lines, log: createLogger('debug', stream) };
}

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'cpiwatch-watch-types-')));
  dir = join(base, 'rules');
  await cp('rules', dir, { recursive: true });
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  for (const f of fifos.splice(0)) {
    try { closeSync(openSync(f, constants.O_RDWR | constants.O_NONBLOCK)); } catch { /* gone */ }
  }
  await rm(base, { recursive: true, force: true });
});

describe('rules watcher with a FIFO and a symlink out of the folder', () => {
  it('skips them with one warning each, and still applies edits of the real files', async () => {
    const { p, counts } = fakeProcessor(await exampleRules([dir]));
    const { lines, log } = capture();
    watcher = watchProcessorRules(p, dir, log, { debounceMs: 30_000, signal: null });
    await watcher.start();
    const fifo = join(dir, 'x.yaml');
    execFileSync('mkfifo', [fifo]);
    fifos.push(fifo);
    await writeFile(join(base, 'outside.yaml'), await readFile(join(dir, 'curbside.yaml'), 'utf8'));
    await symlink(join(base, 'outside.yaml'), join(dir, 'elsewhere.yaml'));
    const skipped = () => lines.filter((l) => l.msg === 'rule file skipped: not a regular file inside the rules folder');

    const file = join(dir, 'curbside.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 1.1, clear: 1.0 }'));
    const first = await watcher.reload('change');
    expect(first).toMatchObject({ result: 'ok' });
    expect(p.rules.rules.find((r) => r.id === 'curbside-flash-drink')!.threshold).toBe(1.1);
    expect(skipped().map((l) => [l.level, l.file, l.code])).toEqual([
      ['warn', join(dir, 'elsewhere.yaml'), 'CPW321'],
      ['warn', fifo, 'CPW321'],
    ]);
    expect(skipped()[0]!.reason).toContain(`is a symbolic link to ${join(base, 'outside.yaml')}, outside the rules folder ${dir}`);
    expect(skipped()[1]!.reason).toContain('is a FIFO (named pipe), not a regular file');

    // more reloads, by edit and by signal: no more warnings about the same files
    await writeFile(file, text);
    expect(await watcher.reload('change')).toMatchObject({ result: 'ok' });
    expect(await watcher.reload('signal')).toMatchObject({ result: 'unchanged' });
    expect(skipped()).toHaveLength(2);

    // gone, then back: warned again
    await rm(fifo);
    await watcher.reload('change');
    execFileSync('mkfifo', [fifo]);
    await watcher.reload('change');
    expect(skipped().map((l) => l.file)).toEqual([join(dir, 'elsewhere.yaml'), fifo, fifo]);
    expect(counts).toEqual(['ok', 'ok']);
  });
});

describe('rules watcher timeout', () => {
  it('abandons a reload that hangs, never applies its late result, and reloads again afterwards', async () => {
    const original = await exampleRules([dir]);
    const { p, counts } = fakeProcessor(original);
    const { lines, log } = capture();
    let release: (() => void) | undefined;
    let calls = 0;
    const real: RulesLoader = (path) => loadRuleSet([path], { entries: 'skip' });
    // the first load hangs (a stuck file system), until released; the others read the disk
    const load: RulesLoader = async (path) => {
      if (++calls > 1) return real(path);
      await new Promise<void>((r) => { release = r; });
      return real(path);
    };
    const results: ReloadResult[] = [];
    // a bound a real load meets even on a busy machine (the suite runs beside integration tests)
    watcher = watchProcessorRules(p, dir, log, { debounceMs: 30_000, signal: null, timeoutMs: 1500, load, onReload: (r) => results.push(r) });
    await watcher.start();

    const file = join(dir, 'curbside.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 1.1, clear: 1.0 }'));
    const startedAt = Date.now();
    expect(await watcher.reload('change')).toEqual({ result: 'failed', reason: 'no result after 1500 ms' });
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(p.rules).toBe(original);
    expect(watcher.stuckReloads).toBe(1);
    expect(lines.find((l) => l.msg === 'rule reload timed out; the previous rules keep running')).toMatchObject({ level: 'error', timeoutMs: 1500, trigger: 'change' });

    // the next reload (SIGHUP, another edit) runs and applies
    expect(await watcher.reload('signal')).toMatchObject({ result: 'ok', previousVersion: original.version });
    const applied = p.rules;
    expect(applied.rules.find((r) => r.id === 'curbside-flash-drink')!.threshold).toBe(1.1);

    // the hung load finishing late changes nothing
    await writeFile(file, text);
    release!();
    await new Promise((r) => setTimeout(r, 100));
    expect(p.rules).toBe(applied);
    expect(watcher.stuckReloads).toBe(0);
    expect(results.map((r) => r.result)).toEqual(['failed', 'ok']);
    expect(counts).toEqual(['rejected', 'ok']);
  });

  it('a loader that throws fails the reload, logged, and the watcher goes on', async () => {
    const original = await exampleRules([dir]);
    const { p } = fakeProcessor(original);
    const { lines, log } = capture();
    let calls = 0;
    const load: RulesLoader = async (path) => {
      if (++calls === 1) throw new Error('EIO: i/o error, scandir');
      return loadRuleSet([path], { entries: 'skip' });
    };
    watcher = watchProcessorRules(p, dir, log, { debounceMs: 30_000, signal: null, load });
    await watcher.start();
    expect(await watcher.reload('change')).toEqual({ result: 'failed', reason: 'EIO: i/o error, scandir' });
    expect(lines.some((l) => l.msg === 'rule reload failed; the previous rules keep running')).toBe(true);
    expect(await watcher.reload('change')).toEqual({ result: 'unchanged', version: original.version });
  });
});
