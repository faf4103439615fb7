/**
 * Loads the Lua scripts of src/store/redis/lua/ and registers them on an ioredis client (standalone
 * or cluster) through defineCommand, so they run by EVALSHA and reload themselves after a restart.
 * Script files are read from the package's src/ folder in both the TypeScript and the compiled build.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';

const LUA_DIR = fileURLToPath(new URL('../../../src/store/redis/lua/', import.meta.url));

export const SCRIPTS = {
  decideOffers: { file: 'decide-offers.lua', keys: 1 },
  /** Owner partitions (partition-state.ts): the fencing claim and the per-batch save. */
  claimPartition: { file: 'claim-partition.lua', keys: 1 },
  savePartition: { file: 'save-partition.lua', keys: 1 },
  /** `cpiwatch rebuild` (ledger-seed.ts): decisions already published, back into the ledger. */
  seedDecisions: { file: 'seed-decisions.lua', keys: 1 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

export function readScript(name: ScriptName): string {
  return readFileSync(LUA_DIR + SCRIPTS[name].file, 'utf8');
}

export function defineScripts(client: Redis | Cluster): void {
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    const keys = SCRIPTS[name].keys;
    client.defineCommand(name, { ...(keys === null ? {} : { numberOfKeys: keys }), lua: readScript(name) });
  }
}
