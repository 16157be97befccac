import { isIP } from 'node:net';
import { buildConnector, Dispatcher, Pool } from 'undici';
import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';

export type DispatcherOptions = Parameters<DispatcherRegistry['get']>[1];

/**
 * Pools pinned to one address (`connectTo`) kept at most, least recently used closed first: hosts whose
 * DNS answers keep changing must not grow the registry forever. Closing lets requests in flight finish.
 */
const MAX_ADDRESS_POOLS = 256;

/**
 * One pooled keep-alive undici `Pool` per origin + connection options (ai-proxy-multi.md §6.5), shared by
 * every route of a worker and kept across config changes, so a config reload does not drop warm
 * connections. `close()` drains and closes them all (worker shutdown). With `connectTo`, the pool
 * connects to that address while `Host` and the TLS server name stay the origin's host (§2.10).
 *
 * Concurrency is not capped: APISIX's `keepalive_pool` bounds the *idle* connections nginx keeps, not
 * how many requests run at once, and a cap in undici would queue the next long stream behind the others.
 * undici cannot bound idle sockets separately, so idle ones close after `keepAliveTimeoutMs` instead.
 * `timeoutMs` is the per-operation timeout: connect here, headers and body gaps per request.
 *
 * @example
 *   const registry = createDispatcherRegistry();
 *   const pool = registry.get('https://api.openai.com', { keepAliveTimeoutMs: 60000, timeoutMs: 30000, rejectUnauthorized: true });
 *   await registry.close();
 */
export function createDispatcherRegistry(): DispatcherRegistry & { close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  /** Least recently used first (a Map keeps insertion order; a hit is moved to the end). */
  const addressPools = new Map<string, Pool>();
  let closed = false;

  function addressPool(key: string, origin: string, options: DispatcherOptions): Pool {
    let pool = addressPools.get(key);
    if (pool !== undefined) {
      addressPools.delete(key);
    } else {
      pool = createPool(origin, options);
      const [oldestKey, oldest] = addressPools.entries().next().value ?? [];
      if (addressPools.size >= MAX_ADDRESS_POOLS && oldestKey !== undefined) {
        addressPools.delete(oldestKey);
        oldest?.close().catch(() => {});
      }
    }
    addressPools.set(key, pool);
    return pool;
  }

  return {
    get(origin, options) {
      if (closed) throw new Error('dispatcher registry is closed');
      const key = `${origin}|${options.keepAliveTimeoutMs}|${options.timeoutMs}|${options.rejectUnauthorized}`;
      if (options.connectTo !== undefined) return addressPool(`${key}|${options.connectTo}`, origin, options);
      let pool = pools.get(key);
      if (pool === undefined) {
        pool = createPool(origin, options);
        pools.set(key, pool);
      }
      return pool;
    },
    async close() {
      closed = true;
      const all = [...pools.values(), ...addressPools.values()];
      pools.clear();
      addressPools.clear();
      await Promise.all(all.map((pool) => pool.close()));
    },
  };
}

function createPool(origin: string, options: DispatcherOptions): Pool {
  const connect = { timeout: options.timeoutMs, rejectUnauthorized: options.rejectUnauthorized };
  return new Pool(origin, {
    connections: null,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // An upstream's keep-alive hint must not stretch idle sockets beyond the configured timeout.
    keepAliveMaxTimeout: options.keepAliveTimeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: options.connectTo === undefined ? connect : connectorTo(options.connectTo, connect),
  });
}

/**
 * undici's connector, with the socket opened to `address` instead of the origin's host name. The pool
 * still builds `Host` from its origin; the TLS server name is set to the host name explicitly (§2.10).
 */
function connectorTo(address: string, options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) => {
    const servername = target.servername ?? (isIP(target.hostname) === 0 ? target.hostname : undefined);
    connect({ ...target, hostname: address, ...(servername === undefined ? {} : { servername }) }, callback);
  };
}

/**
 * A dispatcher that hands each request to the registry's pool for the address `chooseAddress` returns
 * at that moment, or to the origin's own pool (connect by name) when it returns undefined. This is how a
 * health-checked instance whose host has several addresses is called on one healthy address (§2.10).
 * The pools belong to the registry: closing this dispatcher closes nothing.
 *
 * @example
 *   const dispatcher = createAddressRoutingDispatcher(registry, 'https://llm.example.com', options, () => '10.0.0.7');
 *   await dispatcher.request({ path: '/v1/chat/completions', method: 'POST', body }); // to 10.0.0.7, Host llm.example.com
 */
export function createAddressRoutingDispatcher(
  registry: DispatcherRegistry,
  origin: string,
  options: DispatcherOptions,
  chooseAddress: () => string | undefined,
): Dispatcher {
  return new AddressRoutingDispatcher(registry, origin, options, chooseAddress);
}

class AddressRoutingDispatcher extends Dispatcher {
  readonly #registry: DispatcherRegistry;
  readonly #origin: string;
  readonly #options: DispatcherOptions;
  readonly #chooseAddress: () => string | undefined;

  constructor(
    registry: DispatcherRegistry,
    origin: string,
    options: DispatcherOptions,
    chooseAddress: () => string | undefined,
  ) {
    super();
    this.#registry = registry;
    this.#origin = origin;
    this.#options = options;
    this.#chooseAddress = chooseAddress;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const address = this.#chooseAddress();
    const poolOptions = address === undefined ? this.#options : { ...this.#options, connectTo: address };
    return this.#registry.get(this.#origin, poolOptions).dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    if (callback === undefined) return Promise.resolve();
    queueMicrotask(callback);
    return undefined;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | undefined {
    const callback = typeof first === 'function' ? first : second;
    if (callback === undefined) return Promise.resolve();
    queueMicrotask(callback);
    return undefined;
  }
}
