import { compileCostExpression } from '../quota/cost-expression.js';
import type { AiRateLimitingConf } from '../schema/plugins/ai-rate-limiting.js';

/** Connection fields each Redis policy needs (admin-api.md §8.1); `local` needs none. */
const REQUIRED_BY_POLICY: Readonly<Record<string, readonly (keyof AiRateLimitingConf)[]>> = {
  redis: ['redis_host'],
  'redis-cluster': ['redis_cluster_nodes', 'redis_cluster_name'],
  'redis-sentinel': ['redis_sentinels', 'redis_master_name'],
};

/**
 * The cross-field rules of ai-rate-limiting (admin-api.md §8.1) on a schema-valid, defaulted conf,
 * worded like APISIX; undefined when fine.
 *
 * @example checkAiRateLimitingRules({ limit: 10, time_window: 60, limit_strategy: 'expression' })
 * // "cost_expr is required when limit_strategy is 'expression'"
 */
export function checkAiRateLimitingRules(conf: AiRateLimitingConf): string | undefined {
  if (conf.limit_strategy === 'expression') {
    if (conf.cost_expr === undefined) return "cost_expr is required when limit_strategy is 'expression'";
    const compiled = compileCostExpression(conf.cost_expr);
    if (!compiled.ok) return `invalid cost_expr: ${compiled.message}`;
  }
  const required = REQUIRED_BY_POLICY[conf.policy ?? 'local'] ?? [];
  const missing = required.find((field) => conf[field] === undefined);
  if (missing !== undefined) return `property "${missing}" is required when "policy" is "${conf.policy}"`;
  const names = new Set<string>();
  for (const [index, instance] of (conf.instances ?? []).entries()) {
    if (names.has(instance.name)) return `duplicate instance name '${instance.name}' at instances[${index + 1}]`;
    names.add(instance.name);
  }
  return undefined;
}
