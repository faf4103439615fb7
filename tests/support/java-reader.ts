// The stock Java consumer as a reference reader (tests/support/java/ReadTopic.java): a topic read
// the way a downstream service on the Java client reads it. Runs on the broker's own jars from
// scripts/stack.sh (.stack/kafka-jars/<version>), in Java's single-file source mode (Java 11+).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { services } from './services.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

export interface JavaRecord { partition: number; offset: number; value: string }

/** The directory of Kafka client jars, or null when the stack has none (Docker or external services). */
export function kafkaJars(): string | null {
  const base = join(ROOT, '.stack', 'kafka-jars');
  if (!existsSync(base)) return null;
  for (const v of readdirSync(base).sort().reverse()) {
    const dir = join(base, v);
    if (readdirSync(dir).some((f) => f.startsWith('kafka-clients-') && f.endsWith('.jar'))) return dir;
  }
  return null;
}

/** Every record of `topic`, read by the Java consumer (null when no Java or no jars are here). */
export async function readWithJava(topic: string, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Promise<JavaRecord[] | null> {
  const jars = kafkaJars();
  if (!jars) return null;
  const { stdout } = await run('java', ['-cp', `${jars}/*`, join(ROOT, 'tests/support/java/ReadTopic.java'), services().kafkaBrokers.join(','), isolation, topic], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 })
    .catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return { stdout: null }; throw err; });
  if (stdout === null) return null;
  return stdout.split('\n').filter(Boolean).map((line) => {
    const [p, o, ...rest] = line.split('\t');
    return { partition: Number(p), offset: Number(o), value: rest.join('\t') };
  });
}
