import { decideCandidate, type DecisionState } from '../../../src/store/memory/decide.js';
import { seedDecisions } from '../../../src/store/memory/seed-decisions.js';
import { ledgerSeedContract } from '../../contract/ledger-seed.contract.js';

ledgerSeedContract('memory', async () => {
  const state: DecisionState = { ledger: new Map(), history: new Map(), budgets: new Map() };
  return {
    seed: async (seeds) => seedDecisions(state, seeds),
    decide: async (candidates) => candidates.map((c) => decideCandidate(state, c)),
    done: async () => {},
  };
});
