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

export class Facts {
  /** Versions folded together (all older than every version in `versions`). */
  private base: Version | null = null;
  /** Newer versions, in time order. */
  private versions: Version[] = [];

  apply(time: number, facts: Record<string, FactValue>): void {
    if (this.base && time < this.base.time) {
      // older than everything kept apart: only fields the base does not know yet
      for (const [k, v] of Object.entries(facts)) if (!(k in this.base.facts)) this.base.facts[k] = v;
      return;
    }
    let i = this.versions.length;
    while (i > 0 && this.versions[i - 1]!.time > time) i--;
    this.versions.splice(i, 0, { time, facts: { ...facts } });
    while (this.versions.length > MAX_VERSIONS) {
      const oldest = this.versions.shift()!;
      this.base = { time: oldest.time, facts: { ...(this.base?.facts ?? {}), ...oldest.facts } };
    }
  }

  /** Whether a version of exactly these facts at exactly this time is kept (the same profile event again). */
  has(time: number, facts: Record<string, FactValue>): boolean {
    const same = (v: Version) => v.time === time && Object.keys(facts).length === Object.keys(v.facts).length && Object.entries(facts).every(([k, x]) => v.facts[k] === x);
    return this.versions.some(same);
  }

  /** The facts as of `time` (null: no version at or before it). */
  at(time: number): Record<string, FactValue> | null {
    let out: Record<string, FactValue> | null = this.base ? { ...this.base.facts } : null;
    for (const v of this.versions) {
      if (v.time > time) break;
      out = { ...(out ?? {}), ...v.facts };
    }
    return out;
  }

  /** One field as of `time` (undefined: no version at or before it has it); allocates nothing. */
  valueAt(time: number, field: string): FactValue | undefined {
    for (let i = this.versions.length - 1; i >= 0; i--) {
      const v = this.versions[i]!;
      if (v.time <= time && field in v.facts) return v.facts[field];
    }
    return this.base && field in this.base.facts ? this.base.facts[field] : undefined;
  }

  /** The newest facts (explain, `timeZone: scope`). */
  latest(): Record<string, FactValue> | null {
    return this.at(Number.POSITIVE_INFINITY);
  }

  get isEmpty(): boolean {
    return this.base === null && this.versions.length === 0;
  }

  encode(): string {
    return JSON.stringify({ base: this.base, versions: this.versions });
  }

  static decode(s: string): Facts {
    const f = new Facts();
    const raw = JSON.parse(s) as { base: Version | null; versions: Version[] };
    f.base = raw.base;
    f.versions = raw.versions;
    return f;
  }
}
