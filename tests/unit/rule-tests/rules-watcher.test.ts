import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { watchProcessorRules, type ReloadResult, type RulesWatcher } from '../../../src/app/rules-watcher.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';
import { exampleRules } from '../../support/processor.js';
import { fakeProcessor } from '../../support/rules-watcher.js';

const log = pino({ level: 'silent' });
let watcher: RulesWatcher | undefined;
afterEach(async () => { await watcher?.stop(); watcher = undefined; });

describe('rules watcher (hot reload)', () => {
  it('applies a valid edit, rejects an invalid one keeping the old rules, and reloads on SIGHUP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-rules-'));
    await cp('rules', dir, { recursive: true });
    const original = await exampleRules([dir]);
    const { p, counts } = fakeProcessor(original);
    const results: ReloadResult[] = [];
    let notify: (() => void) | undefined;
    watcher = watchProcessorRules(p, dir, log, { debounceMs: 50, onReload: (r) => { results.push(r); notify?.(); } });
    await watcher.start();
    const next = () => new Promise<void>((r) => { notify = r; });

    const file = join(dir, 'curbside.yaml');
    const text = await readFile(file, 'utf8');
    let reloaded = next();
    await writeFile(file, text.replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 1.1, clear: 1.0 }'));
    await reloaded;
    expect(results.at(-1)).toMatchObject({ result: 'ok', previousVersion: original.version });
    expect(p.rules.rules.find((r) => r.id === 'curbside-flash-drink')!.threshold).toBe(1.1);
    const good = p.rules;

    reloaded = next();
    await writeFile(file, text.replace('threshold: { above: 1.25, clear: 1.0 }', 'treshold: { above: 1.1 }'));
    await reloaded;
    const rejected = results.at(-1)!;
    expect(rejected.result).toBe('rejected');
    expect(rejected.result === 'rejected' && rejected.errors.map((e) => e.message).join('\n')).toContain('unknown field "treshold" (did you mean "threshold"?)');
    expect(p.rules).toBe(good);

    reloaded = next();
    await writeFile(file, text);
    await reloaded;
    expect(p.rules.version).toBe(original.version);

    reloaded = next();
    process.kill(process.pid, 'SIGHUP');
    await reloaded;
    expect(results.at(-1)).toEqual({ result: 'unchanged', version: original.version });
    expect(counts).toEqual(['ok', 'rejected', 'ok']);
  });

  it('keeps rule state across an edit: a pending `for` timer started under the old version fires on time, under the new one', async () => {
    const tf = await loadTestFile('rules/curbside.test.yaml');
    if (!tf.ok) throw new Error('test file');
    const t = tf.testFile.tests[0]!;
    const v1 = await exampleRules(['rules/curbside.yaml']);
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-rules-'));
    const text = await readFile('rules/curbside.yaml', 'utf8');
    await writeFile(join(dir, 'curbside.yaml'), text.replace('Busy store, long curbside waits', 'Long curbside waits at a busy store'));
    const v2 = await exampleRules([dir]);
    expect(v2.rules[0]!.version).not.toBe(v1.rules[0]!.version);

    const sink = new CollectingSink();
    const replay = createReplay(v1, { sink, batchSize: 1 });
    // up to +15m30s: the breach began at +14m (pending), `for` is 2m
    const cut = t.messages.findIndex((m) => JSON.parse(String(m.value)).time >= '2026-11-23T18:15:30');
    await replay.feed(t.messages.slice(0, cut));
    expect(sink.decisions).toEqual([]);
    replay.engine.setRules(v2);
    await replay.feed(t.messages.slice(cut));
    await replay.finish();
    expect(sink.offers.map((d) => [d.customerId, new Date(d.time).toISOString(), d.rule.version])).toEqual([
      ['c1', '2026-11-23T18:16:00.000Z', v2.rules[0]!.version],
    ]);
  });

  it('a rule file emptied by a save cut short (0 bytes, or its comment header only) is rejected: the previous rules keep running', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-rules-'));
    await cp('rules', dir, { recursive: true });
    const original = await exampleRules([dir]);
    expect(original.rules.map((r) => r.id)).toContain('curbside-flash-drink');
    const { p, counts } = fakeProcessor(original);
    watcher = watchProcessorRules(p, dir, log, { signal: null });
    const file = join(dir, 'quotes.yaml'); // (a file no other rule file depends on)
    const text = await readFile(file, 'utf8');
    const why = 'an empty file is taken for a save cut short, not for "no rules"; delete the file to remove its rules';

    await writeFile(file, '');
    const zero = await watcher.reload('test');
    expect(zero.result === 'rejected' && zero.errors.map(formatRuleError)).toEqual([`${file}:1:1: CPW323 rule file ${file} is empty (0 bytes): ${why}`]);
    expect(p.rules).toBe(original);

    await writeFile(file, text.slice(0, text.indexOf('\n') + 1)); // the yaml-language-server line
    const header = await watcher.reload('test');
    expect(header.result === 'rejected' && header.errors.map(formatRuleError)).toEqual([`${file}:1:1: CPW323 rule file ${file} is empty (only comments): ${why}`]);
    expect(p.rules).toBe(original);

    await writeFile(file, text);
    expect(await watcher.reload('test')).toEqual({ result: 'unchanged', version: original.version });
    expect(p.rules).toBe(original);
    expect(counts).toEqual(['rejected', 'rejected']);
  });
});
