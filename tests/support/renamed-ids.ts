// The curbside scenario with its ids renamed to arbitrary strings (tests of identity: ids are opaque
// strings of any Unicode, and no two share state). The new ids keep the order of the old ones where
// the engine's tie-breaks read it (stores by their tag, customers by their id).
import fc from 'fast-check';
import { tagOf } from '../../src/cpis/tags.js';
import { curbsideScenario } from '../../src/samples/curbside-scenario.js';

/** Ids that look alike, or like the encodings of each other, or like keys and tags. */
export const LOOKALIKES = ['josé', 'jose\u0301', 'jos%e9', 'jos%C3%A9', 'a—20', 'a 1420', '客户1', '𝒸𝓊𝓈𝓉', 'x{y}', 'x|y', 'customerId=x', ' ', '%', '=', 'ﬀ', 'ff'];

/** An id as a careless or hostile producer sends it (valid: 1 to 128 UTF-16 units, no lone surrogate). */
export const oddId = fc.oneof(fc.constantFrom(...LOOKALIKES), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }));

export interface RenamedScenario {
  events: { data: Record<string, unknown> }[];
  /** Every id of the scenario, once. */
  ids: string[];
  /** The scenario with each id replaced by one of `names` (as many as ids, distinct). */
  renamed(names: readonly string[]): { events: object[]; map: Map<string, string> };
}

export function renamableScenario(options: Parameters<typeof curbsideScenario>[0]): RenamedScenario {
  const events = curbsideScenario(options).events.map((e) => e.event as unknown as { data: Record<string, unknown> });
  const idsOf = (k: string) => [...new Set(events.map((e) => e.data[k]).filter((v): v is string => typeof v === 'string'))];
  const byRaw = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const byTag = (a: string, b: string) => byRaw(tagOf('storeId', a), tagOf('storeId', b));
  const kinds = [
    { key: 'storeId', ids: idsOf('storeId').sort(byTag), order: byTag },
    { key: 'customerId', ids: idsOf('customerId').sort(byRaw), order: byRaw },
    { key: 'orderId', ids: idsOf('orderId'), order: null },
  ];
  return {
    events,
    ids: kinds.flatMap((k) => k.ids),
    renamed(names) {
      const map = new Map<string, string>();
      let i = 0;
      for (const k of kinds) {
        const mine = names.slice(i, i + k.ids.length);
        i += k.ids.length;
        if (k.order) mine.sort(k.order);
        k.ids.forEach((id, j) => map.set(id, mine[j]!));
      }
      const renamed = events.map((e) => {
        const data = { ...e.data };
        for (const k of kinds) if (typeof data[k.key] === 'string') data[k.key] = map.get(data[k.key] as string)!;
        return { ...e, data };
      });
      return { events: renamed, map };
    },
  };
}
