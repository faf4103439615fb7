// Runs the cpiwatch command line in-process, as `bin/cpiwatch.js` would, capturing what it prints.
import { main } from '../../src/cli/index.js';
import type { CliIo } from '../../src/cli/io.js';

export interface CliRun { code: number; out: string; err: string }

const line = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

/**
 * `cpiwatch <argv>` with `env` set in process.env for the call (restored after it); each chunk the
 * command writes ends up on its own line(s) of `out` (stdout) and `err` (stderr).
 */
export async function runCli(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (s) => { out += line(s); }, stderr: (s) => { err += line(s); } };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return { code: await main(argv, io), out, err };
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}
