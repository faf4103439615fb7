/**
 * A customer's facts as they stand now, read from the persisted state of the partition that owns the
 * customer (without claiming it): what the e-mail worker addresses an offer with and what `explain`
 * against a running system shows. Decisions themselves read facts as of their time (owner-stage.ts).
 */
import type { FactValue } from '../cpis/ops.js';
import { Facts } from '../entities/facts.js';
import { ownerOf } from './owner-of.js';

export interface EntityReadPort {
  readEntities(partition: string, fields: string[]): Promise<(string | null)[]>;
}

export interface FactsReader {
  readFacts(tags: string[]): Promise<(Record<string, FactValue> | null)[]>;
}

/** Facts now of each tag; `partitions` is the ops topic's partition count, `topic` its name. */
export function latestFactsReader(state: EntityReadPort, topic: string, partitions: () => number): FactsReader {
  return {
    async readFacts(tags) {
      const out: (Record<string, FactValue> | null)[] = tags.map(() => null);
      const n = partitions();
      const byOwner = new Map<number, number[]>();
      tags.forEach((tag, i) => {
        const p = ownerOf(tag, n);
        byOwner.set(p, [...(byOwner.get(p) ?? []), i]);
      });
      for (const [p, indexes] of byOwner) {
        const values = await state.readEntities(`${topic}:${p}`, indexes.map((i) => `${tags[i]!}|f`));
        indexes.forEach((i, k) => {
          const v = values[k];
          out[i] = v ? Facts.decode(v).latest() : null;
        });
      }
      return out;
    },
  };
}
