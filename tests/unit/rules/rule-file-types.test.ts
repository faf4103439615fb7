// Only regular files inside the rules folder are read: a FIFO, a socket or a symlink out of the folder
// is refused by type (lstat/stat, nothing opened), as a CPW321 error by default (validate, run at
// start) or skipped with a CPW321 warning for hot reload; nothing ever blocks on a FIFO.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectRuleEntry, isInside, loadRuleSet, readRuleSources } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';
import { runCli } from '../../support/cli.js';
import { RETURNS_CPI as CPI, RETURNS_RULE as RULE } from '../../support/rule-texts.js';

let base: string;
let dir: string;
let outside: string;
const fifos: string[] = [];
const servers: Server[] = [];

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'cpiwatch-file-types-')));
  dir = join(base, 'rules');
  outside = join(base, 'elsewhere');
  await mkdir(dir);
  await mkdir(outside);
  await writeFile(join(dir, 'cpis.yaml'), CPI);
  await writeFile(join(dir, 'returns.yaml'), RULE);
  await writeFile(join(outside, 'stolen.yaml'), RULE.replace('painful-returns', 'stolen'));
});

afterEach(async () => {
  // a regression that opened a FIFO for reading would hang this worker for good: a writer opening
  // and closing it releases such a reader (O_RDWR never blocks on Linux)
  for (const f of fifos.splice(0)) {
    try { closeSync(openSync(f, constants.O_RDWR | constants.O_NONBLOCK)); } catch { /* gone */ }
  }
  for (const s of servers.splice(0)) s.close();
  await rm(base, { recursive: true, force: true });
});

function mkfifo(path: string): string {
  execFileSync('mkfifo', [path]);
  fifos.push(path);
  return path;
}

/** Fails instead of hanging when reading blocks. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still blocked after ${ms} ms`)), ms).unref())]);
}

describe('inspectRuleEntry', () => {
  it('classifies by lstat/stat: regular files, directories, FIFOs, sockets, links in and out of the folder', async () => {
    const fifo = mkfifo(join(dir, 'x.yaml'));
    mkfifo(join(dir, 'notes.txt'));
    const sock = join(dir, 's.yaml');
    await new Promise<void>((resolve) => { const s = createServer(); servers.push(s); s.listen(sock, resolve); });
    await symlink(join(outside, 'stolen.yaml'), join(dir, 'out.yaml'));
    await symlink(outside, join(dir, 'outdir'));
    await symlink(join(dir, 'cpis.yaml'), join(dir, 'in.yaml'));
    await mkdir(join(dir, 'sub'));
    await symlink(join(dir, 'sub'), join(dir, 'subdir-link'));
    await symlink(join(dir, 'missing.yaml'), join(dir, 'dangling.yaml'));

    const at = (name: string) => inspectRuleEntry(join(dir, name), name, dir);
    expect(await at('cpis.yaml')).toEqual({ kind: 'file' });
    expect(await at('x.yaml')).toEqual({ kind: 'refused', reason: `${fifo} is a FIFO (named pipe), not a regular file; not read` });
    expect(await at('notes.txt')).toEqual({ kind: 'ignored' });
    expect(await at('s.yaml')).toEqual({ kind: 'refused', reason: `${sock} is a socket, not a regular file; not read` });
    expect(await at('out.yaml')).toEqual({ kind: 'refused', reason: `${join(dir, 'out.yaml')} is a symbolic link to ${join(outside, 'stolen.yaml')}, outside the rules folder ${dir}; not followed` });
    expect(await at('outdir')).toMatchObject({ kind: 'refused', reason: expect.stringContaining('outside the rules folder') });
    expect(await at('in.yaml')).toEqual({ kind: 'file' });
    expect(await at('sub')).toEqual({ kind: 'directory', real: join(dir, 'sub') });
    expect(await at('subdir-link')).toEqual({ kind: 'directory', real: join(dir, 'sub') });
    expect(await at('dangling.yaml')).toEqual({ kind: 'file' }); // reading it says it does not exist
  });

  it('isInside: the folder itself and what is below it, not a sibling sharing its prefix', () => {
    expect(isInside('/r/rules', '/r/rules')).toBe(true);
    expect(isInside('/r/rules/a/b.yaml', '/r/rules')).toBe(true);
    expect(isInside('/r/rules-old/b.yaml', '/r/rules')).toBe(false);
    expect(isInside('/etc/passwd', '/r/rules')).toBe(false);
    expect(isInside('/x.yaml', '/')).toBe(true);
  });
});

describe('readRuleSources with a FIFO and links out of the folder', () => {
  it('by default: a CPW321 error naming each, the other files still read, and no blocking', async () => {
    const fifo = mkfifo(join(dir, 'x.yaml'));
    await symlink(join(outside, 'stolen.yaml'), join(dir, 'out.yaml'));
    const { sources, errors, skipped } = await within(5000, readRuleSources([dir]));
    expect(sources.map((s) => s.file)).toEqual([join(dir, 'cpis.yaml'), join(dir, 'returns.yaml')]);
    expect(skipped).toEqual([]);
    expect(errors.map(formatRuleError)).toEqual([
      `${join(dir, 'out.yaml')}: CPW321 cannot read rule file: ${join(dir, 'out.yaml')} is a symbolic link to ${join(outside, 'stolen.yaml')}, outside the rules folder ${dir}; not followed`,
      `${fifo}: CPW321 cannot read rule file: ${fifo} is a FIFO (named pipe), not a regular file; not read`,
    ]);
  });

  it('skip (hot reload): left unread as CPW321 warnings, the rule set loads without them', async () => {
    const fifo = mkfifo(join(dir, 'x.yaml'));
    await symlink(join(outside, 'stolen.yaml'), join(dir, 'out.yaml'));
    await symlink(outside, join(dir, 'shared'));
    const loaded = await within(5000, loadRuleSet([dir], { entries: 'skip' }));
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.ruleSet.rules.map((r) => r.id)).toEqual(['painful-returns']);
    expect(loaded.skipped.map((w) => [w.file, w.code, w.severity])).toEqual([
      [join(dir, 'out.yaml'), 'CPW321', 'warning'],
      [join(dir, 'shared'), 'CPW321', 'warning'],
      [fifo, 'CPW321', 'warning'],
    ]);
    expect(loaded.skipped[2]!.message).toBe(`cannot read rule file: ${fifo} is a FIFO (named pipe), not a regular file; not read`);
  });

  it('follows links that stay inside the folder, also when the folder itself is reached through a link', async () => {
    await mkdir(join(dir, 'shared'));
    await writeFile(join(dir, 'shared', 'more.yaml'), RULE.replace('painful-returns', 'more'));
    await symlink(join(dir, 'shared', 'more.yaml'), join(dir, 'more-link.yaml'));
    await symlink('shared', join(dir, 'shared-link'));
    const via = join(base, 'rules-link');
    await symlink(dir, via);
    const { sources, errors } = await readRuleSources([via]);
    expect(errors).toEqual([]);
    // each file once, under the first name it was reached by
    expect(sources.map((s) => s.file)).toEqual([join(via, 'cpis.yaml'), join(via, 'more-link.yaml'), join(via, 'returns.yaml')]);
  });

  it('a path named explicitly that is a FIFO is an error in either mode, without blocking', async () => {
    const fifo = mkfifo(join(base, 'named.yaml'));
    for (const entries of ['error', 'skip'] as const) {
      const { sources, errors } = await within(5000, readRuleSources([fifo], { entries }));
      expect(sources).toEqual([]);
      expect(errors.map(formatRuleError)).toEqual([`${fifo}: CPW321 cannot read rule file: ${fifo} is a FIFO (named pipe), not a regular file; not read`]);
    }
  });

  it('a folder holding nothing but refused entries has no rule files (CPW313) when they are skipped', async () => {
    const only = join(base, 'only');
    await mkdir(only);
    mkfifo(join(only, 'x.yaml'));
    const loaded = await loadRuleSet([only], { entries: 'skip' });
    expect(loaded.ok).toBe(false);
    expect(!loaded.ok && loaded.errors.map((e) => e.code)).toEqual(['CPW313']);
    expect(loaded.skipped.map((w) => w.code)).toEqual(['CPW321']);
  });
});

describe('cpiwatch validate', () => {
  it('fails with CPW321 naming the FIFO and the link out of the folder', async () => {
    const fifo = mkfifo(join(dir, 'x.yaml'));
    await symlink(join(outside, 'stolen.yaml'), join(dir, 'out.yaml'));
    const { code, out } = await within(10_000, runCli(['validate', dir]));
    expect(code).toBe(1);
    expect(out).toContain(`${fifo}: CPW321 cannot read rule file: ${fifo} is a FIFO (named pipe), not a regular file`);
    expect(out).toContain(`${join(dir, 'out.yaml')}: CPW321 cannot read rule file: ${join(dir, 'out.yaml')} is a symbolic link to ${join(outside, 'stolen.yaml')}, outside the rules folder`);
    expect(out).toMatch(/FAILED: 2 errors/);
  });
});
