// Finds a free TCP port on an interface (for `tributary up` when a port is configured as 0).
import { createServer } from 'node:net';

/** A port nobody listens on at the moment of asking (a tiny race remains; callers retry on EADDRINUSE). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
