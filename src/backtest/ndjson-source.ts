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

export async function ndjsonSource(path: string, batchSize: number): Promise<EventBatches> {
  const info = await stat(path);
  return {
    total: info.size,
    async *batches(onProgress) {
      const input = createReadStream(path);
      const lines = createInterface({ input, crlfDelay: Infinity });
      let batch: RawMessage[] = [];
      let line = -1;
      for await (const text of lines) {
        line += 1;
        if (text.trim() === '') continue;
        batch.push({ value: Buffer.from(text, 'utf8'), origin: { topic: `file:${path}`, partition: 0, offset: line } });
        if (batch.length >= batchSize) {
          onProgress?.(input.bytesRead);
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
      onProgress?.(info.size);
    },
  };
}
