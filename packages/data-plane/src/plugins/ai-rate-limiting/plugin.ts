import type { AiRateLimitingConf } from '@switchboard/core';
import type { RuntimePlugin } from '../runtime-plugin.js';
import { type PreparedAiRateLimiting, prepareAiRateLimiting, type QuotaStores } from './prepare.js';
import { RequestQuotaGate } from './quota-gate.js';

/**
 * The runtime half of ai-rate-limiting (admin-api.md §8, ai-proxy-multi.md §9). APISIX checks in its
 * access phase, after ai-proxy-multi picked (1041 > 1030), and ai-proxy-multi calls the LLM in a later
 * phase. Here the AI proxies call the LLM inside their own access phase, so this plugin attaches its
 * per-request gate in rewrite — after key-auth, and again from the consumer's conf when the consumer
 * has one, which then replaces the route's (§9.3) — and the proxy consults it before every attempt.
 *
 * @example createAiRateLimitingPlugin({ local: new MemoryQuotaCounters(Date.now) })
 */
export function createAiRateLimitingPlugin(
  stores: QuotaStores,
): RuntimePlugin<AiRateLimitingConf, PreparedAiRateLimiting> {
  return {
    name: 'ai-rate-limiting',
    prepare: (conf, scope) => prepareAiRateLimiting(conf, scope, stores),
    rewrite(ctx, prepared) {
      ctx.aiQuota = new RequestQuotaGate(prepared, ctx);
      return undefined;
    },
  };
}
