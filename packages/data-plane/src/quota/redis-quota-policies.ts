import type { AiRateLimitingConf } from '@switchboard/core';
import type { QuotaStores } from '../plugins/ai-rate-limiting/prepare.js';
import type { RedisQuotaConnection } from './redis-quota-connection.js';
import type { RedisQuotaStores } from './redis-quota-stores.js';

/**
 * ai-rate-limiting's `redis`, `redis-cluster` and `redis-sentinel` policies over one worker's Redis
 * clients. The conf passed the plugin's checks, so its policy's connection fields are present
 * (plugins/ai-rate-limiting-rules.ts).
 */
export function redisQuotaStoresFor(stores: RedisQuotaStores): NonNullable<QuotaStores['remote']> {
  return (conf: AiRateLimitingConf) => stores.get(conf as RedisQuotaConnection);
}
