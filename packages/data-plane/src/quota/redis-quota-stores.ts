import type { QuotaCounterStore } from '@switchboard/core';
import type { Logger } from 'pino';
import { createRedisQuotaClient, type RedisQuotaClient } from './redis-quota-client.js';
import { type RedisQuotaConnection, redisQuotaTargetKey, resolveRedisQuotaTarget } from './redis-quota-connection.js';
import { RedisQuotaCounters } from './redis-quota-counters.js';

export interface RedisQuotaStores {
  /** The counters behind `connection`; the same instance (and connection) for equal settings. */
  get(connection: RedisQuotaConnection): QuotaCounterStore;
  /** Closes every connection (worker shutdown); `get` throws afterwards. */
  close(): Promise<void>;
}

export interface RedisQuotaStoresOptions {
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** Put before every counter key (default `switchboard:ai-quota:`). */
  readonly keyPrefix?: string;
}

/**
 * One Redis client per distinct connection settings within a worker process, shared by every route
 * and kept across config changes (like the upstream dispatcher registry), so many routes and reloads
 * do not open new connections. Settings that do not shape the connection (limits, windows, keepalive
 * pool fields) do not split clients.
 *
 * @example
 *   const stores = createRedisQuotaStores({ logger });
 *   const counters = stores.get({ policy: 'redis-cluster', redis_cluster_nodes: ['10.0.0.1:7000'], redis_cluster_name: 'q' });
 *   await stores.close();
 */
export function createRedisQuotaStores(options: RedisQuotaStoresOptions = {}): RedisQuotaStores {
  const entries = new Map<string, { client: RedisQuotaClient; counters: RedisQuotaCounters }>();
  const clientOptions = options.logger === undefined ? {} : { logger: options.logger };
  let closed = false;

  return {
    get(connection) {
      if (closed) throw new Error('redis quota stores are closed');
      const target = resolveRedisQuotaTarget(connection);
      const key = redisQuotaTargetKey(target);
      let entry = entries.get(key);
      if (entry === undefined) {
        const client = createRedisQuotaClient(target, clientOptions);
        const counters = new RedisQuotaCounters({
          client,
          ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
        });
        entry = { client, counters };
        entries.set(key, entry);
      }
      return entry.counters;
    },
    async close() {
      closed = true;
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((entry) => entry.client.close()));
    },
  };
}
