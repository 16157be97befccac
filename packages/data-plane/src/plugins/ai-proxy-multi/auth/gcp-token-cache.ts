import type { GcpAccessToken } from './gcp-token-exchange.js';

/** How long a fetched token is reused (ai-proxy-multi.md §4.8, `auth.gcp`). */
export interface GcpTokenPolicy {
  /** Renew this many seconds before Google's expiry (default 60 in the schema). */
  readonly expireEarlySecs: number;
  /** Never reuse a token longer than this many seconds. */
  readonly maxTtlSecs: number | undefined;
}

/** Google's token lifetime when the answer does not say (§4.8). */
const DEFAULT_EXPIRES_IN_SECONDS = 3600;

/**
 * Seconds a token is reused: `expires_in` (3600 when absent), minus `expire_early_secs` when the
 * lifetime is longer than that, then capped at `max_ttl` (§4.8).
 *
 * @example gcpTokenTtlSeconds(3600, { expireEarlySecs: 60, maxTtlSecs: 600 }); // 600
 */
export function gcpTokenTtlSeconds(expiresIn: number | undefined, policy: GcpTokenPolicy): number {
  let ttl = expiresIn ?? DEFAULT_EXPIRES_IN_SECONDS;
  if (ttl > policy.expireEarlySecs) ttl -= policy.expireEarlySecs;
  if (policy.maxTtlSecs !== undefined && ttl > policy.maxTtlSecs) ttl = policy.maxTtlSecs;
  return ttl;
}

export interface GcpTokenCache {
  /**
   * The cached token for `key` while it is fresh, else the result of `fetch` (cached on success).
   * Concurrent callers for one key share one fetch; a failed fetch is not cached.
   */
  token(key: string, policy: GcpTokenPolicy, fetch: () => Promise<GcpAccessToken>): Promise<string>;
}

interface CachedToken {
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

/**
 * Access tokens per service account and instance, shared by every route of a worker (APISIX keeps an
 * in-process LRU of 4096 entries, §4.8). `clock` is wall-clock milliseconds, injected so tests can move
 * time. The least recently used entry is dropped when the cache is full.
 *
 * @example
 *   const cache = createGcpTokenCache({ clock: Date.now });
 *   await cache.token('key#vertex', { expireEarlySecs: 60, maxTtlSecs: undefined }, () => exchangeGcpToken(...));
 */
export function createGcpTokenCache(deps: {
  readonly clock: () => number;
  readonly maxEntries?: number;
}): GcpTokenCache {
  const maxEntries = deps.maxEntries ?? 4096;
  const cached = new Map<string, CachedToken>();
  const inFlight = new Map<string, Promise<string>>();

  const remember = (key: string, token: CachedToken) => {
    cached.delete(key);
    cached.set(key, token);
    if (cached.size > maxEntries) {
      const oldest = cached.keys().next();
      if (oldest.done !== true) cached.delete(oldest.value);
    }
  };

  return {
    token(key, policy, fetch) {
      const hit = cached.get(key);
      if (hit !== undefined && deps.clock() < hit.expiresAtMs) {
        remember(key, hit);
        return Promise.resolve(hit.accessToken);
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const requestedAtMs = deps.clock();
      const fetching = fetch()
        .then((fetched) => {
          const ttlMs = gcpTokenTtlSeconds(fetched.expiresInSeconds, policy) * 1000;
          // Counted from when the request left, so network time never stretches the token's life.
          remember(key, { accessToken: fetched.accessToken, expiresAtMs: requestedAtMs + ttlMs });
          return fetched.accessToken;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, fetching);
      return fetching;
    },
  };
}
