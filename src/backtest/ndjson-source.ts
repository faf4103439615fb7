/**
 * Batches of events for a backtest. Every message of one batch comes from one source (a file, or a
 * topic partition): the pipeline's duplicate detection is per source.
 */
export function sourceOf(batch: readonly RawMessage[]): string {
  const o = batch[0]!.origin;
  return o.topic.startsWith('file:') ? o.topic : `${o.topic}:${o.partition}`;
}

/**
 * Events from an NDJSON file (one structured-mode CloudEvent JSON per line), in batches. Each line
 * keeps its number as its offset (origin topic `file:<path>`), so a dead letter names its line.
 * Blank lines are skipped; any other line goes to the engine, which dead-letters what is invalid.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { RawMessage } from '../pipeline/types.js';

export interface EventBatches {
  /** Total work for the progress bar (bytes of the file, or messages of a topic range). */
  total: number;
  batches(onProgress?: (done: number) => void): AsyncIterable<RawMessage[]>;
}

/** `path` "-" reads standard input (no progress total). */
export async function ndjsonSource(path: string, batchSize: number, stdin: NodeJS.ReadableStream = process.stdin): Promise<EventBatches> {
  const size = path === '-' ? 0 : (await stat(path)).size;
  const name = path === '-' ? 'stdin' : path;
  return {
    total: size,
    async *batches(onProgress) {
      const input: NodeJS.ReadableStream = path === '-' ? stdin : createReadStream(path);
      let bytes = 0;
      if (path === '-') stdin.on('data', (chunk: Buffer | string) => { bytes += chunk.length; });
      const lines = createInterface({ input, crlfDelay: Infinity });
      let batch: RawMessage[] = [];
      let line = -1;
      for await (const text of lines) {
        line += 1;
        if (text.trim() === '') continue;
        batch.push({ value: Buffer.from(text, 'utf8'), origin: { topic: `file:${name}`, partition: 0, offset: line } });
        if (batch.length >= batchSize) {
          onProgress?.(path === '-' ? bytes : (input as ReturnType<typeof createReadStream>).bytesRead);
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
      onProgress?.(size);
    },
  };
}
