import { Pool } from 'undici';
import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';

export type DispatcherOptions = Parameters<DispatcherRegistry['get']>[1];

/**
 * One pooled keep-alive undici `Pool` per origin + connection options (ai-proxy-multi.md §6.5), shared by
 * every route of a worker and kept across config changes, so a config reload does not drop warm
 * connections. `close()` drains and closes them all (worker shutdown).
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
  let closed = false;

  return {
    get(origin, options) {
      if (closed) throw new Error('dispatcher registry is closed');
      const key = `${origin}|${options.keepAliveTimeoutMs}|${options.timeoutMs}|${options.rejectUnauthorized}`;
      let pool = pools.get(key);
      if (pool === undefined) {
        pool = createPool(origin, options);
        pools.set(key, pool);
      }
      return pool;
    },
    async close() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.close()));
    },
  };
}

function createPool(origin: string, options: DispatcherOptions): Pool {
  return new Pool(origin, {
    connections: null,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // An upstream's keep-alive hint must not stretch idle sockets beyond the configured timeout.
    keepAliveMaxTimeout: options.keepAliveTimeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs, rejectUnauthorized: options.rejectUnauthorized },
  });
}
