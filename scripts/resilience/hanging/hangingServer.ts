/**
 * A TCP server on 127.0.0.1 that accepts every connection and never answers: the endpoint of a dependency that
 * hangs (a socket that is open, takes the request, and stays silent).
 */
import { createServer, type Socket } from 'node:net';

export interface HangingServer {
  /** `http://127.0.0.1:<port>`, for an SDK client's endpoint. */
  endpoint: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections still open (a client that gave up closes its own). */
  open(): number;
  close(): Promise<void>;
}

export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    // Reads what is sent (so the client's write completes) and never writes anything back.
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the hanging server has no TCP port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    open: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
