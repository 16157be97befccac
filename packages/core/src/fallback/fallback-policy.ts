import type { AiProxyMultiConf } from '../schema/plugins/ai-proxy-multi.js';

/**
 * What happens when an attempt fails and the conf says nothing (ai-proxy-multi.md §1.3): no status falls
 * back, no retry cap, no slow-failure guard. The one place these defaults live (STYLE §4).
 */
export const FALLBACK_DEFAULTS = {
  /** `fallback_strategy` unset: no status triggers fallback and picks skip no rate-limited instance. */
  strategy: [],
  /** `fallback_http_statuses` unset. */
  httpStatuses: [],
  /** `max_retries` unset: fall back until an attempt succeeds or nothing is left to pick. */
  maxRetries: Number.POSITIVE_INFINITY,
  /** `retry_on_failure_within_ms` unset: a failure falls back however long the attempt took. */
  retryOnFailureWithinMs: Number.POSITIVE_INFINITY,
} as const;

/** The fallback-related fields of the conf, as validated (ai-proxy-multi.md §1.3, §1.3.1). */
export type FallbackConf = Pick<
  AiProxyMultiConf,
  'fallback_strategy' | 'fallback_http_statuses' | 'max_retries' | 'retry_on_failure_within_ms'
>;

/** The conf compiled once per change into what the retry decision reads (§3.3). */
export interface FallbackPolicy {
  /** False for a single instance (§3.6): its failure always goes to the client as is. */
  readonly enabled: boolean;
  readonly on429: boolean;
  readonly on5xx: boolean;
  /** `fallback_http_statuses`: extra statuses that fall back (and take the error path, §6.1). */
  readonly httpStatuses: ReadonlySet<number>;
  /** `rate_limiting` (or the legacy string): ask the availability check at pick time (§2.7). */
  readonly rateLimiting: boolean;
  readonly maxRetries: number;
  readonly retryOnFailureWithinMs: number;
}

type StrategyToken = 'rate_limiting' | 'http_429' | 'http_5xx';

/** §1.3.1: the string form is one token, the legacy name meaning `rate_limiting`; the array form is a set. */
function strategyTokens(strategy: FallbackConf['fallback_strategy']): ReadonlySet<StrategyToken> {
  if (strategy === undefined) return new Set(FALLBACK_DEFAULTS.strategy);
  if (typeof strategy === 'string')
    return new Set([strategy === 'instance_health_and_rate_limiting' ? 'rate_limiting' : strategy]);
  return new Set(strategy);
}

/**
 * Compiles the fallback fields of an ai-proxy-multi conf (ai-proxy-multi.md §1.3, §3.3, §3.6).
 *
 * @example
 *   const policy = compileFallbackPolicy({ fallback_strategy: ['http_5xx'], max_retries: 1 }, { instanceCount: 3 });
 *   policy.on5xx; // true
 */
export function compileFallbackPolicy(conf: FallbackConf, options: { readonly instanceCount: number }): FallbackPolicy {
  const tokens = strategyTokens(conf.fallback_strategy);
  return {
    enabled: options.instanceCount > 1,
    on429: tokens.has('http_429'),
    on5xx: tokens.has('http_5xx'),
    httpStatuses: new Set(conf.fallback_http_statuses ?? FALLBACK_DEFAULTS.httpStatuses),
    rateLimiting: tokens.has('rate_limiting'),
    maxRetries: conf.max_retries ?? FALLBACK_DEFAULTS.maxRetries,
    retryOnFailureWithinMs: conf.retry_on_failure_within_ms ?? FALLBACK_DEFAULTS.retryOnFailureWithinMs,
  };
}

/**
 * §6.1 step 1: the statuses whose response is read whole and handed to the retry decision instead of
 * being relayed: 429, 500–599 and `fallback_http_statuses`.
 */
export function takesErrorPath(policy: Pick<FallbackPolicy, 'httpStatuses'>, status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599) || policy.httpStatuses.has(status);
}

/** §3.3: whether the code of a failed attempt (upstream status or synthetic 500/504) may fall back. */
export function isRetriableStatus(policy: FallbackPolicy, status: number): boolean {
  return (
    (status === 429 && policy.on429) ||
    (status >= 500 && status <= 599 && policy.on5xx) ||
    policy.httpStatuses.has(status)
  );
}

/** Why a failed attempt is the last one, or that another instance may be tried. */
export type RetryDecision =
  | { readonly retry: true }
  | { readonly retry: false; readonly reason: 'single-instance' | 'not-retriable' }
  | { readonly retry: false; readonly reason: 'slow-failure'; readonly elapsedMs: number; readonly limitMs: number }
  | { readonly retry: false; readonly reason: 'max-retries'; readonly maxRetries: number };

/**
 * The retry decision of §3.3 for one failed attempt, in APISIX's order: retriable status, then the
 * slow-failure guard (timed from the start of the failed attempt), then `max_retries`. Picking the next
 * instance is the caller's job (its failure means exhaustion, a 502).
 *
 * @example
 *   decideRetry(policy, { status: 503, elapsedMs: 40, retriesSoFar: 0 }); // { retry: true }
 */
export function decideRetry(
  policy: FallbackPolicy,
  failure: { readonly status: number; readonly elapsedMs: number; readonly retriesSoFar: number },
): RetryDecision {
  if (!policy.enabled) return { retry: false, reason: 'single-instance' };
  if (!isRetriableStatus(policy, failure.status)) return { retry: false, reason: 'not-retriable' };
  if (failure.elapsedMs > policy.retryOnFailureWithinMs) {
    return {
      retry: false,
      reason: 'slow-failure',
      elapsedMs: failure.elapsedMs,
      limitMs: policy.retryOnFailureWithinMs,
    };
  }
  if (failure.retriesSoFar + 1 > policy.maxRetries)
    return { retry: false, reason: 'max-retries', maxRetries: policy.maxRetries };
  return { retry: true };
}
