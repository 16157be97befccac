import type { PassiveHealthConf } from '../schema/plugins/ai-proxy-multi.js';

/**
 * Passive health defaults (Beyond APISIX, off unless `passive_health` is configured), in one literal.
 */
export const PASSIVE_HEALTH_DEFAULTS = {
  /** Consecutive 5xx answers, timeouts or connection errors that take an instance out. */
  failures: 3,
  /** How long an instance stays out after `failures`. */
  cooldownMs: 30_000,
  /** Whether a 429 carrying `Retry-After`/`retry-after-ms` takes the instance out for that long. */
  retryAfter: true,
  /** Cap on a Retry-After, so a bogus header cannot take an instance out for days. */
  maxRetryAfterMs: 300_000,
} as const;

/** What live traffic taught about an instance, one attempt at a time. */
export type PassiveObservation =
  /** An answer that was not a failure (any 2xx–4xx other than 429, a complete stream). */
  | { readonly kind: 'success' }
  /** A 5xx, a timeout, a connection error or a stream broken mid-way. */
  | { readonly kind: 'failure' }
  /** A 429; `retryAfterMs` when the upstream said how long to wait. */
  | { readonly kind: 'rate-limited'; readonly retryAfterMs: number | undefined };

export interface PassiveHealthTracker {
  /** Counts one observation for `key`; true when it took the instance out. */
  record(key: string, conf: PassiveHealthConf, observation: PassiveObservation): boolean;
  /** Keys out at `now`. */
  outKeys(now: number): string[];
  /** When the next cooldown ends (to publish the instance coming back), or undefined. */
  nextReturnAt(now: number): number | undefined;
  /** Forgets keys whose plugin conf no longer exists or no longer has `passive_health`. */
  retain(keys: ReadonlySet<string>): void;
}

interface PassiveState {
  consecutiveFailures: number;
  outUntil: number;
}

/**
 * Passive health (Beyond APISIX; DECISIONS "health state is per node"): `failures` consecutive failed
 * attempts take an instance out for `cooldown_ms`; a 429 with a Retry-After takes it out for that long
 * (capped). A success resets the count. An instance that is out is simply unhealthy for the balancer,
 * so the §2.6 rule applies (when every instance is out, health is ignored).
 *
 * @example
 *   const tracker = createPassiveHealthTracker({ now: () => performance.now() });
 *   tracker.record('/apisix/routes/1#a', { failures: 1 }, { kind: 'failure' }); // true: out for 30 s
 */
export function createPassiveHealthTracker(deps: { readonly now: () => number }): PassiveHealthTracker {
  const states = new Map<string, PassiveState>();
  const stateOf = (key: string): PassiveState => {
    let state = states.get(key);
    if (state === undefined) {
      state = { consecutiveFailures: 0, outUntil: 0 };
      states.set(key, state);
    }
    return state;
  };
  const takeOut = (state: PassiveState, forMs: number): boolean => {
    const now = deps.now();
    const wasOut = state.outUntil > now;
    state.outUntil = Math.max(state.outUntil, now + forMs);
    return !wasOut;
  };

  return {
    record(key, conf, observation) {
      const state = stateOf(key);
      switch (observation.kind) {
        case 'success':
          state.consecutiveFailures = 0;
          return false;
        case 'failure':
          state.consecutiveFailures += 1;
          if (state.consecutiveFailures < (conf.failures ?? PASSIVE_HEALTH_DEFAULTS.failures)) return false;
          state.consecutiveFailures = 0;
          return takeOut(state, conf.cooldown_ms ?? PASSIVE_HEALTH_DEFAULTS.cooldownMs);
        case 'rate-limited': {
          if (observation.retryAfterMs === undefined || !(conf.retry_after ?? PASSIVE_HEALTH_DEFAULTS.retryAfter))
            return false;
          const cap = conf.max_retry_after_ms ?? PASSIVE_HEALTH_DEFAULTS.maxRetryAfterMs;
          return takeOut(state, Math.min(observation.retryAfterMs, cap));
        }
      }
    },
    outKeys: (now) => [...states].filter(([, state]) => state.outUntil > now).map(([key]) => key),
    nextReturnAt(now) {
      let next: number | undefined;
      for (const state of states.values()) {
        if (state.outUntil > now && (next === undefined || state.outUntil < next)) next = state.outUntil;
      }
      return next;
    },
    retain(keys) {
      for (const key of states.keys()) if (!keys.has(key)) states.delete(key);
    },
  };
}
