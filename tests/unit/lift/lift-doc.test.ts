// docs/rules.md, "Measuring lift": the example session is what `cpiwatch lift` prints on the seeded
// scenario of tests/support/lift-scenario.ts (2000 customers, a 10% holdout, 30% vs 10%).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { liftScenario, ndjson } from '../../support/lift-scenario.js';
import { fencedBlocks } from '../../support/markdown.js';

const DOC = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8');

describe('docs/rules.md: Measuring lift', () => {
  it('shows what cpiwatch lift prints for the seeded scenario', async () => {
    const [block, ...more] = fencedBlocks(DOC).filter((b) => b.body.startsWith('$ cpiwatch lift '));
    expect(block, 'one example session of cpiwatch lift').toBeDefined();
    expect(more).toEqual([]);
    const [command, ...shown] = block!.body.split('\n');
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-lift-doc-'));
    const s = liftScenario({ customers: 2000, holdout: 0.1, offered: 0.3, heldOut: 0.1, seed: 13 });
    writeFileSync(join(dir, 'decisions.ndjson'), ndjson(s.decisions));
    writeFileSync(join(dir, 'events.ndjson'), ndjson(s.events));
    const argv = command!.replace(/^\$ cpiwatch /, '').split(' ').map((a) => (a.endsWith('.ndjson') ? join(dir, a) : a));
    const r = await runCli(argv);
    expect(r.code, r.err).toBe(0);
    expect(r.out.replaceAll(`${dir}/`, '').trimEnd()).toBe(shown.join('\n'));
  });

  it('names the screenshot it shows, which exists', () => {
    expect(DOC).toContain('![The lift report of the example above](img/lift-report.png)');
    expect(readFileSync(new URL('../../../docs/img/lift-report.png', import.meta.url)).subarray(1, 4).toString()).toBe('PNG');
  });
});
