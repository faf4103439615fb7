import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { offerLedgerContract } from '../../contract/offer-ledger.contract.js';
import { services, uniqueId } from '../../support/index.js';

offerLedgerContract('redis', async () => {
  const client = new Redis(services().redisUrl);
  const store = new RedisStore(client, uniqueId('contract'));
  return { store, done: () => store.close() };
});
