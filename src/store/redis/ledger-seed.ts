/**
 * Re-seeding the offer ledger with decisions already published (`cpiwatch rebuild`): each goes in
 * as published, an offer with its place in the customer's contact history and its scope's budget
 * period (seed-decisions.lua; the memory version is store/memory/seed-decisions.ts). A seed whose
 * offer id the ledger holds already is left alone, so seeding the same decision twice (from the
 * offers and from the decisions topic, or a rebuild run again) counts it once.
 */
import type { Cluster, Redis } from 'ioredis';
import type { SuppressionReason } from '../state-store.js';
import type { RedisKeys } from './keys.js';
import { defineScripts } from './script-loader.js';

/** A decision already published, as the ledger needs it. */
export interface LedgerSeed {
  offerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: SuppressionReason;
  ruleId: string;
  customer: string;
  scopeTag: string;
  /** Event time of the decision (the offer's `time`). */
  time: number;
  /** How long the ledger keeps it (as decide-offers.lua: at least the longest guardrail period). */
  retainMs: number;
  /** The budget period of its rule, when the rule has a budget (an offer counts in its period). */
  budgetPerMs?: number;
  /** The owner partition that decides the offer id ("topic:partition"). */
  source?: string;
}

export interface SeedCounts { offered: number; suppressed: number; known: number }

/** Seeds per script call (a call blocks Redis for its duration). */
const SEEDS_PER_CALL = 500;

interface SeedScripts { seedDecisions(base: string, seeds: string): Promise<string> }

export class RedisLedgerSeeder {
  constructor(private readonly client: Redis | Cluster, private readonly keys: RedisKeys) {
    defineScripts(client);
  }

  async seed(seeds: readonly LedgerSeed[]): Promise<SeedCounts> {
    const total: SeedCounts = { offered: 0, suppressed: 0, known: 0 };
    const scripts = this.client as unknown as SeedScripts;
    for (let i = 0; i < seeds.length; i += SEEDS_PER_CALL) {
      const counts = JSON.parse(await scripts.seedDecisions(this.keys.decisions(), JSON.stringify(seeds.slice(i, i + SEEDS_PER_CALL)))) as SeedCounts;
      total.offered += counts.offered;
      total.suppressed += counts.suppressed;
      total.known += counts.known;
    }
    return total;
  }
}
