import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { stateStoreContract } from '../../contract/state-store.contract.js';
import { services, uniqueId } from '../../support/index.js';

stateStoreContract('redis', async () => {
  const client = new Redis(services().redisUrl);
  const store = new RedisStore(client, uniqueId('contract'));
  return { store, done: () => store.close() };
});
