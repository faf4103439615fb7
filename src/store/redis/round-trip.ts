/**
 * One network round trip for many commands: a single pipeline on a standalone Redis; on a Redis
 * Cluster one pipeline per master node, sent in parallel (a cluster pipeline must stay on one node).
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { inStore } from './store-errors.js';

/** A command: method name on the client (built-in or defined script), its arguments, first arg is the routing key. */
export type Command = [method: string, args: (string | number)[]];

/** Failures come out as CPW400 STORE_UNAVAILABLE or CPW401 STORE_SCRIPT (store-errors.ts). */
export function roundTrip(client: Redis | Cluster, commands: Command[]): Promise<unknown[]> {
  if (commands.length === 0) return Promise.resolve([]);
  return inStore(commands[0]![0], () => send(client, commands));
}

async function send(client: Redis | Cluster, commands: Command[]): Promise<unknown[]> {
  const groups = groupByNode(client, commands);
  const results = new Array<unknown>(commands.length);
  await Promise.all(
    groups.map(async (indices) => {
      const pipeline = client.pipeline();
      for (const i of indices) {
        const [method, args] = commands[i]!;
        (pipeline as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
      }
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, value], j) => {
        if (err) throw err;
        results[indices[j]!] = value;
      });
    }),
  );
  return results;
}

function groupByNode(client: Redis | Cluster, commands: Command[]): number[][] {
  if (!isCluster(client)) return [commands.map((_, i) => i)];
  const byNode = new Map<string, number[]>();
  commands.forEach(([, args], i) => {
    const slot = calculateSlot(String(args[0]));
    const node = client.slots[slot]?.[0] ?? `slot:${slot}`;
    let list = byNode.get(node);
    if (!list) byNode.set(node, (list = []));
    list.push(i);
  });
  return [...byNode.values()];
}

export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as Cluster).isCluster === true;
}
