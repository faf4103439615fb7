import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { stateStoreContract } from '../../contract/state-store.contract.js';

stateStoreContract('memory', async () => ({ store: new MemoryStore(), done: async () => {} }));
