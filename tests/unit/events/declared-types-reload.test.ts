// Event type declarations hot-reload with the rules (src/app/rules-watcher.ts): an edited
// declaration is a new rule-set version, and the routing built from it decodes by the new
// declaration; a bad declaration on reload is rejected at its file:line:col and the running rules
// and event types stay.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { watchProcessorRules, type ReloadResult, type RulesWatcher } from '../../../src/app/rules-watcher.js';
import { buildRouting } from '../../../src/cpis/routing.js';
import { SourceRouter } from '../../../src/pipeline/route.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';
import { fakeProcessor } from '../../support/rules-watcher.js';

const log = pino({ level: 'silent' });
let watcher: RulesWatcher | undefined;
let dir: string | undefined;
afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const declaration = (max: string) => `eventTypes:
  - type: survey.answered
    fields:
      customerId: { type: id, role: customer }
      cesScore: { type: integer, min: 1, max: ${max} }
`;

const event = (score: number) => ({
  value: Buffer.from(JSON.stringify({ specversion: '1.0', id: `e${score}`, source: 'urn:t', type: 'survey.answered', time: '2026-11-20T12:00:00Z', data: { customerId: 'c1', cesScore: score } })),
  origin: { topic: 'events', partition: 0, offset: score },
});

describe('event type declarations on hot reload', () => {
  it('an edit changes what decodes; an error keeps the running declarations', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpiwatch-declared-reload-'));
    const file = join(dir, 'survey-events.yaml');
    await writeFile(file, declaration('7'));
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(loaded.errors.map(formatRuleError).join('\n'));
    const { p, counts } = fakeProcessor(loaded.ruleSet);
    const results: ReloadResult[] = [];
    let notify: (() => void) | undefined;
    watcher = watchProcessorRules(p, dir, log, { debounceMs: 50, timeoutMs: 20_000, onReload: (r) => { results.push(r); notify?.(); } });
    await watcher.start();
    const next = () => new Promise<void>((r) => { notify = r; });
    /** Dead-letter codes of the route stage, decoding with the routing of the running rules. */
    const deadLetters = (score: number) =>
      new SourceRouter(0, 1).route([event(score)], buildRouting(p.rules), { limits: { maxBytes: 10_000 }, now: Date.UTC(2026, 10, 21), maxFutureMs: 0 }).deadLetters.map((d) => d.code);
    expect(deadLetters(9)).toEqual(['CPW203']);

    let reloaded = next();
    await writeFile(file, declaration('10'));
    await reloaded;
    expect(results.at(-1)).toMatchObject({ result: 'ok', previousVersion: loaded.ruleSet.version });
    expect(deadLetters(9)).toEqual([]);
    const good = p.rules;

    reloaded = next();
    await writeFile(file, declaration('0'));
    await reloaded;
    const rejected = results.at(-1)!;
    expect(rejected.result === 'rejected' && rejected.errors.map(formatRuleError)).toEqual([
      `${file}:5:34: CPW340 event type survey.answered: field cesScore: min 1 is above max 0, so no value is allowed (at eventTypes[0].fields.cesScore.min)`,
    ]);
    expect(p.rules).toBe(good);
    expect(deadLetters(9)).toEqual([]);
    expect(counts).toEqual(['ok', 'rejected']);
  });
});
