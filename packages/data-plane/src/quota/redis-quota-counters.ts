import type { QuotaAdjustRequest, QuotaCounterStore, QuotaReservation, QuotaReserveRequest } from '@switchboard/core';
import type { RedisQuotaClient } from './redis-quota-client.js';
import { QuotaStoreUnavailableError } from './redis-quota-store-error.js';

/** Counter keys are namespaced so the quota shares a Redis with other data safely. */
export const DEFAULT_QUOTA_KEY_PREFIX = 'switchboard:ai-quota:';

export interface RedisQuotaCountersOptions {
  readonly client: RedisQuotaClient;
  /** Put before every counter key (default `switchboard:ai-quota:`). */
  readonly keyPrefix?: string;
}

/**
 * The counters of the `redis`, `redis-cluster` and `redis-sentinel` policies (admin-api.md §8.2):
 * the same fixed windows as core's MemoryQuotaCounters, kept in Redis and shared by every replica. Each
 * operation is one Lua script (redis-quota-scripts.ts), so a reserve's check-and-add is atomic across
 * replicas. Rejects with QuotaStoreUnavailableError when Redis cannot answer in time.
 *
 * @example
 *   const stores = createRedisQuotaStores();
 *   const counters = stores.get({ policy: 'redis', redis_host: '127.0.0.1' });
 *   await counters.reserve({ key: '/apisix/routes/1#gpt-4.1', windowMs: 60_000, limit: 30, amount: 10, check: true });
 */
export class RedisQuotaCounters implements QuotaCounterStore {
  private readonly client: RedisQuotaClient;
  private readonly keyPrefix: string;

  constructor(options: RedisQuotaCountersOptions) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix ?? DEFAULT_QUOTA_KEY_PREFIX;
  }

  async reserve(request: QuotaReserveRequest): Promise<QuotaReservation> {
    const reply = await this.client.run((scripts) =>
      scripts.reserve(this.keyPrefix + request.key, request.windowMs, request.limit, request.amount, request.check),
    );
    return this.parseReservation(reply);
  }

  async adjust(request: QuotaAdjustRequest): Promise<void> {
    if (request.delta === 0) return;
    await this.client.run((scripts) =>
      scripts.adjust(this.keyPrefix + request.key, request.windowMs, request.delta, request.windowId),
    );
  }

  /** `[admitted 1|0, usedBefore, resetMs, windowId]`, numbers as strings (see the script). */
  private parseReservation(reply: unknown): QuotaReservation {
    if (Array.isArray(reply) && reply.length === 4) {
      const [admitted, usedBefore, resetMs, windowId] = reply as unknown[];
      const used = Number(usedBefore);
      const reset = Number(resetMs);
      if (
        (admitted === 0 || admitted === 1) &&
        typeof windowId === 'string' &&
        Number.isFinite(used) &&
        Number.isFinite(reset)
      ) {
        return { admitted: admitted === 1, usedBefore: used, resetMs: reset, windowId };
      }
    }
    throw new QuotaStoreUnavailableError(this.client.description, `unexpected reserve reply ${JSON.stringify(reply)}`);
  }
}
