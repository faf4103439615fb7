import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { offerLedgerContract } from '../../contract/offer-ledger.contract.js';

offerLedgerContract('memory', async () => ({ store: new MemoryStore(), done: async () => {} }));
