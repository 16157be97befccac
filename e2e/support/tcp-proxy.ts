import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, to hand to a client instead of the target's URL. */
  readonly url: string;
  /** Destroys every live connection and refuses new ones until `restore()`: a deterministic outage. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP relay in front of a server (etcd in the outage tests), so a test can cut the
 * network between client and server without stopping the server.
 *
 * @example
 *   const proxy = await startTcpProxy('127.0.0.1', etcdPort);
 *   const source = createEtcdConfigSource({ hosts: [proxy.url], ... });
 *   proxy.cut(); // the source reports onError and retries
 *   proxy.restore();
 */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const live = new Set<Socket>();
  let isCut = false;

  const track = (socket: Socket): void => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
  };

  const server = createServer((downstream) => {
    if (isCut) {
      downstream.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    track(downstream);
    track(upstream);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    // Either side failing or closing tears the pair down, as a broken network path would.
    const teardown = (): void => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the TCP proxy has no port');
  const port = address.port;

  const destroyAll = (): void => {
    for (const socket of live) socket.destroy();
    live.clear();
  };

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut() {
      isCut = true;
      destroyAll();
    },
    restore() {
      isCut = false;
    },
    close() {
      isCut = true;
      destroyAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
