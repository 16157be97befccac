import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigListener, ConfigSource, DataEncryptionConfig, ListenAddressConfig } from '@switchboard/core';
import type { Logger } from 'pino';
import { type ConfigState, createConfigState } from '../config/config-state.js';
import { createRuntimePluginRegistry, type RuntimePluginRegistry } from '../plugins/registry.js';
import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';
import { createDispatcherRegistry } from '../upstream/dispatchers.js';
import type { AccessLog } from './access-log.js';
import { createRequestPipeline } from './request-pipeline.js';

export interface ProxyServerOptions {
  readonly source: ConfigSource;
  readonly prefix: string;
  readonly logger: Logger;
  /** Access lines; the operational logger when not given (tests read both from one place). */
  readonly accessLog?: AccessLog;
  readonly dataEncryption: DataEncryptionConfig;
  /** Defaults to Math.random (picker start positions). */
  readonly random?: () => number;
  /** Monotonic milliseconds; defaults to performance.now. */
  readonly now?: () => number;
  /** Bound on a body read before matching `post_arg.*` vars; default 64 MiB like `max_req_body_size`. */
  readonly maxRoutingBodyBytes?: number;
  /** Defaults to key-auth and ai-proxy-multi. */
  readonly plugins?: RuntimePluginRegistry;
  /** Defaults to a registry owned (and closed) by this server. */
  readonly dispatchers?: DispatcherRegistry;
  readonly onApplied?: (event: { readonly revision: number; readonly fullyLoaded: boolean }) => void;
}

export interface ProxyServer {
  /** Resolves once the first full snapshot was applied. */
  readonly ready: Promise<void>;
  revision(): number;
  fullyLoaded(): boolean;
  /** Starts one HTTP listener per `node_listen` address; resolves their bound addresses. */
  listen(addresses: readonly ListenAddressConfig[]): Promise<AddressInfo[]>;
  /** Stops listening, stops applying config, disposes prepared plugins. Does not close the source. */
  close(): Promise<void>;
}

const DEFAULT_MAX_ROUTING_BODY_BYTES = 64 * 1024 * 1024;

/**
 * A data-plane proxy in this process, fed directly by a ConfigSource: what each worker runs, and
 * what `workers: 0` and the tests use.
 *
 * @example
 *   const proxy = createProxyServer({ source: store, prefix: '/apisix', logger, dataEncryption: config.apisix.data_encryption });
 *   const [address] = await proxy.listen([{ ip: '127.0.0.1', port: 0 }]);
 *   await proxy.ready;
 */
export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const { dispatchers, closeDispatchers } = dispatchersFor(options.dispatchers);
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const state: ConfigState = createConfigState({
    // Keys are parsed as `<prefix>/<kind>/<id>`, whether the caller wrote `/apisix` or `/apisix/`.
    prefix: options.prefix.replace(/\/+$/, ''),
    logger: options.logger,
    registry: options.plugins ?? createRuntimePluginRegistry({ random, now }),
    dispatchers,
    random,
    dataEncryption: options.dataEncryption,
    onApplied(event) {
      if (event.fullyLoaded) markReady();
      options.onApplied?.(event);
    },
  });
  let closed = false;
  options.source.start(
    options.prefix,
    guardAfterClose(state.listener, () => closed),
  );

  const handler = createRequestPipeline({
    runtime: state.current,
    logger: options.logger,
    ...(options.accessLog === undefined ? {} : { accessLog: options.accessLog }),
    dispatchers,
    now,
    maxRoutingBodyBytes: options.maxRoutingBodyBytes ?? DEFAULT_MAX_ROUTING_BODY_BYTES,
  });
  const servers: Server[] = [];

  return {
    ready,
    revision: state.revision,
    fullyLoaded: state.fullyLoaded,
    async listen(addresses) {
      const bound: AddressInfo[] = [];
      for (const address of addresses) {
        const server = createServer(handler);
        // A bad client (malformed request line, reset socket) must never take the process down.
        server.on('clientError', (_error, socket) => {
          if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
          else socket.destroy();
        });
        servers.push(server);
        bound.push(await listenOn(server, address));
      }
      return bound;
    },
    async close() {
      closed = true;
      await Promise.all(servers.map(closeServer));
      state.close();
      await closeDispatchers();
    },
  };
}

function dispatchersFor(given: DispatcherRegistry | undefined): {
  dispatchers: DispatcherRegistry;
  closeDispatchers: () => Promise<void>;
} {
  if (given !== undefined) return { dispatchers: given, closeDispatchers: async () => {} };
  const owned = createDispatcherRegistry();
  return { dispatchers: owned, closeDispatchers: () => owned.close() };
}

function guardAfterClose(listener: ConfigListener, isClosed: () => boolean): ConfigListener {
  return {
    onSnapshot: (items, revision) => {
      if (!isClosed()) listener.onSnapshot(items, revision);
    },
    onChanges: (events, revision) => {
      if (!isClosed()) listener.onChanges(events, revision);
    },
    onError: (error) => {
      if (!isClosed()) listener.onError?.(error);
    },
  };
}

export function listenOn(server: Server, address: ListenAddressConfig): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(address.port, address.ip, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
