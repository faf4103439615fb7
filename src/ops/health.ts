/**
 * Readiness: the processor is ready when Kafka has assigned it a group membership, Redis answers,
 * Redis still holds the state (store/redis/state-marker.ts), no partition's batch keeps failing
 * (ops/stuck-partitions.ts) and rules are loaded.
 */
export type Check = 'kafka' | 'redis' | 'state' | 'partitions' | 'rules';

export class Health {
  private readonly state: Record<Check, { ok: boolean; detail: string }> = {
    kafka: { ok: false, detail: 'not joined yet' },
    redis: { ok: false, detail: 'not checked yet' },
    // checked when the stages start (Kafka is not ready before), then every few seconds
    state: { ok: true, detail: 'not lost' },
    partitions: { ok: true, detail: 'every partition is moving' },
    rules: { ok: false, detail: 'not loaded yet' },
  };
  private onChange: ((ready: boolean) => void) | undefined;

  set(check: Check, ok: boolean, detail: string): void {
    this.state[check] = { ok, detail };
    this.onChange?.(this.ready);
  }

  get ready(): boolean {
    return Object.values(this.state).every((s) => s.ok);
  }

  report(): { ready: boolean; checks: Record<Check, { ok: boolean; detail: string }> } {
    return { ready: this.ready, checks: structuredClone(this.state) };
  }

  watch(fn: (ready: boolean) => void): void {
    this.onChange = fn;
  }
}
