/**
 * Facts about an entity (a customer's tier, a store's time zone) as they stood at any event time:
 * each profile event is a version, and a rule's filter reads the facts as of its decision's time, so
 * the answer does not depend on whether a later profile update was processed first. Per field the
 * newest version at or before the time wins. Old versions are folded into one base version.
 */
import type { FactValue } from '../cpis/ops.js';

export type { FactValue };

const MAX_VERSIONS = 8;

interface Version { time: number; facts: Record<string, FactValue> }

/** The encoding of no version (never persisted: an entity without facts writes no part for them). */
const EMPTY = JSON.stringify({ base: null, versions: [] });

export class Facts {
  /**
   * The versions as their persisted JSON: what an owner keeps for most entities (a customer with a
   * profile, read only when a candidate of theirs is decided), about half the bytes of the objects
   * (~340,000 customers in the benchmark). null: no version.
   */
  private packed: string | null = null;
  /** The versions as objects, parsed on the first read after a write and kept for the next reads. */
  private view: { base: Version | null; versions: Version[] } | null = null;

  private open(): { base: Version | null; versions: Version[] } {
    return (this.view ??= this.packed === null ? { base: null, versions: [] } : (JSON.parse(this.packed) as { base: Version | null; versions: Version[] }));
  }

  apply(time: number, facts: Record<string, FactValue>): void {
    const v = this.open();
    if (v.base && time < v.base.time) {
      // older than everything kept apart: only fields the base does not know yet
      for (const [k, x] of Object.entries(facts)) if (!(k in v.base.facts)) v.base.facts[k] = x;
    } else {
      let i = v.versions.length;
      while (i > 0 && v.versions[i - 1]!.time > time) i--;
      v.versions.splice(i, 0, { time, facts: { ...facts } });
      while (v.versions.length > MAX_VERSIONS) {
        const oldest = v.versions.shift()!;
        v.base = { time: oldest.time, facts: { ...(v.base?.facts ?? {}), ...oldest.facts } };
      }
    }
    // written packed (the persisted part is this string): the objects go until the next read
    this.packed = JSON.stringify(v);
    this.view = null;
  }

  /** Whether a version of exactly these facts at exactly this time is kept (the same profile event again). */
  has(time: number, facts: Record<string, FactValue>): boolean {
    if (this.packed === null) return false;
    const same = (v: Version) => v.time === time && Object.keys(facts).length === Object.keys(v.facts).length && Object.entries(facts).every(([k, x]) => v.facts[k] === x);
    return this.open().versions.some(same);
  }

  /** The facts as of `time` (null: no version at or before it). */
  at(time: number): Record<string, FactValue> | null {
    if (this.packed === null) return null;
    const { base, versions } = this.open();
    let out: Record<string, FactValue> | null = base ? { ...base.facts } : null;
    for (const v of versions) {
      if (v.time > time) break;
      out = { ...(out ?? {}), ...v.facts };
    }
    return out;
  }

  /** One field as of `time` (undefined: no version at or before it has it); allocates nothing. */
  valueAt(time: number, field: string): FactValue | undefined {
    if (this.packed === null) return undefined;
    const { base, versions } = this.open();
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i]!;
      if (v.time <= time && field in v.facts) return v.facts[field];
    }
    return base && field in base.facts ? base.facts[field] : undefined;
  }

  /** The newest facts (explain, `timeZone: scope`). */
  latest(): Record<string, FactValue> | null {
    return this.at(Number.POSITIVE_INFINITY);
  }

  get isEmpty(): boolean {
    return this.packed === null;
  }

  encode(): string {
    return this.packed ?? EMPTY;
  }

  /** Facts from their persisted part, parsed when first read (a partition's load parses none of them). */
  static decode(s: string): Facts {
    const f = new Facts();
    if (s !== EMPTY) f.packed = s;
    return f;
  }
}
