// Every metric a processor registers is described in docs/operations.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';

describe('docs/operations.md', () => {
  it('documents every metric the processor registers', async () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs/operations.md'), 'utf8');
    const names = (await new Metrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((n) => !docs.includes(`\`${n}\``))).toEqual([]);
    expect(docs).toContain('`cpiwatch_process_`');
  });
});
