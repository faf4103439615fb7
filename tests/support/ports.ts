// A free loopback port, for servers a test starts itself (a redis-server on its own port).
import { createServer, type AddressInfo } from 'node:net';

/** A port the kernel just handed out and released. Another process could take it before the
 * caller binds it; on a test machine that is rare, and the caller's start-up then fails loudly. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
