// cpiwatch explain never prints a customer fact declared as personal data (pii: true in
// customer.profile: email and name as shipped, and any field a rules folder adds with pii: true),
// neither in the facts line nor where a rule's filter is checked against them.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index.js';
import type { CliIo } from '../../../src/cli/io.js';
import { loadTestFile } from '../../../src/rule-tests/test-file.js';

describe('cpiwatch explain and personal data', () => {
  it('shows personal facts as not shown, the shipped ones and a declared one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-explain-pii-'));
    await writeFile(join(dir, 'curbside.yaml'), await readFile('rules/curbside.yaml', 'utf8'));
    await writeFile(join(dir, 'profile-events.yaml'), 'eventTypes:\n  - type: customer.profile\n    extend: true\n    fields:\n      phone: { type: string, optional: true, pii: true }\n');
    const tf = await loadTestFile('rules/curbside.test.yaml');
    if (!tf.ok) throw new Error(JSON.stringify(tf.errors));
    const lines = tf.testFile.tests[0]!.messages.map((m) => JSON.parse(String(m.value)) as { type: string; data: Record<string, unknown> });
    for (const e of lines) if (e.type === 'customer.profile' && e.data.customerId === 'c2') Object.assign(e.data, { email: 'zoe@example.com', name: 'Zoë', phone: '+1 555 0100' });
    const events = join(dir, 'events.ndjson');
    await writeFile(events, lines.map((e) => JSON.stringify(e)).join('\n'));
    let out = '';
    const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; } };
    expect(await main(['explain', '--customer', 'c2', '--rule', 'curbside-flash-drink', '--rules', dir, '--events', events], io)).toBe(0);
    expect(out).toContain('customer c2: facts valueTier="bronze", lifetimeValue=90, email=(personal data, not shown), name=(personal data, not shown), phone=(personal data, not shown)');
    expect(out).not.toMatch(/zoe@example\.com|Zoë|555/);
  });
});
