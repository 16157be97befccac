import { type PassiveObservation, parseRetryAfterMs } from '@switchboard/core';
import type { AttemptOutcome } from '../plugins/ai-proxy-multi/attempt.js';

/**
 * What one attempt tells passive health about its instance (Beyond APISIX, docs/balancing.md): a
 * complete answer is a success; a 5xx, a timeout, a connection error or a stream broken after the first
 * byte is a failure; a 429 is rate limiting (with its Retry-After). Anything else — another 4xx from
 * `fallback_http_statuses`, a request the gateway could not build, a client that went away — says
 * nothing about the instance's health.
 *
 * @example passiveObservationOf({ kind: 'relayed' }, Date.now()); // { kind: 'success' }
 */
export function passiveObservationOf(outcome: AttemptOutcome, nowEpochMs: number): PassiveObservation | undefined {
  switch (outcome.kind) {
    case 'relayed':
      return { kind: 'success' };
    case 'broken-stream':
      return { kind: 'failure' };
    case 'client-gone':
      return undefined;
    case 'failed':
      return outcome.error.code === 'SB_ERR_UPSTREAM_CONNECT' || outcome.error.code === 'SB_ERR_UPSTREAM_TIMEOUT'
        ? { kind: 'failure' }
        : undefined;
    case 'upstream-error':
      if (outcome.status === 429)
        return { kind: 'rate-limited', retryAfterMs: parseRetryAfterMs(outcome.headers, nowEpochMs) };
      return outcome.status >= 500 ? { kind: 'failure' } : undefined;
  }
}
