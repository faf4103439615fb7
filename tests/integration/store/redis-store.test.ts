import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/store/redis/redis-store.js';
import { stateStoreContract } from '../../contract/state-store.contract.js';
const services = () => ({ redisUrl: process.env.REDIS_URL! });
const uniqueName = (p: string) => `${p}-${process.pid}-${Date.now()}`;

stateStoreContract('redis', async () => {
  const client = new Redis(services().redisUrl);
  const store = new RedisStore(client, uniqueName('contract'));
  return { store, done: () => store.close() };
});
