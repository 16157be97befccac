import { createProxyServer, type ProxyServer, type ProxyServerOptions } from '../../src/server/proxy-server.js';
import { type CapturedLogger, captureLogger, createTempStore, defaultConfig, type TempStore } from './harness.js';

export interface RunningProxy {
  readonly store: TempStore;
  readonly proxy: ProxyServer;
  readonly log: CapturedLogger;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Resolves once the proxy applied at least `revision` (poll with a deadline, never sleep). */
  applied(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** An in-process proxy fed by a fresh embedded store, listening on a random loopback port. */
export async function startProxy(
  overrides: Partial<Pick<ProxyServerOptions, 'plugins' | 'random' | 'maxRoutingBodyBytes'>> = {},
): Promise<RunningProxy> {
  const store = await createTempStore();
  const log = captureLogger();
  const waiters = new Set<{ revision: number; resolve: () => void }>();
  const proxy = createProxyServer({
    source: store.store,
    prefix: '/apisix',
    logger: log.logger,
    dataEncryption: defaultConfig().apisix.data_encryption,
    ...overrides,
    onApplied: ({ revision }) => {
      for (const waiter of waiters) {
        if (revision >= waiter.revision) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    },
  });
  const [address] = await proxy.listen([{ ip: '127.0.0.1', port: 0 }]);
  await proxy.ready;
  return {
    store,
    proxy,
    log,
    url: `http://127.0.0.1:${address?.port}`,
    applied(revision) {
      if (proxy.revision() >= revision) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ revision, resolve }));
    },
    async close() {
      await proxy.close();
      await store.close();
    },
  };
}
