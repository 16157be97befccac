import type { HealthThresholds } from './active-check-spec.js';

/** What one probe observed (§7.2): an HTTP status line, a TCP connect, or why it failed. */
export type ProbeResult =
  | { readonly kind: 'status'; readonly status: number }
  /** An HTTP answer whose status line could not be parsed: an http failure (§7.3). */
  | { readonly kind: 'bad-status-line' }
  /** A `tcp` probe connected. */
  | { readonly kind: 'connected' }
  /** Connect, send or receive failed (refused, reset, TLS). */
  | { readonly kind: 'tcp-failure'; readonly reason: string }
  | { readonly kind: 'timeout' };

/** How a probe result counts (§7.3). `ignored` statuses change no counter. */
export type ProbeOutcome = 'success' | 'http-failure' | 'tcp-failure' | 'timeout' | 'ignored';

/**
 * §7.3: a status in `healthy.http_statuses` is a success, one in `unhealthy.http_statuses` (or an
 * unparsable one) an http failure, any other status is ignored; a TCP connect is a success.
 */
export function classifyProbeResult(result: ProbeResult, thresholds: HealthThresholds): ProbeOutcome {
  switch (result.kind) {
    case 'status':
      if (thresholds.healthy.httpStatuses.includes(result.status)) return 'success';
      if (thresholds.unhealthy.httpStatuses.includes(result.status)) return 'http-failure';
      return 'ignored';
    case 'bad-status-line':
      return 'http-failure';
    case 'connected':
      return 'success';
    case 'tcp-failure':
      return 'tcp-failure';
    case 'timeout':
      return 'timeout';
  }
}

/** The health of one probe target (ai-proxy-multi.md §7.3). */
export interface TargetHealth {
  readonly healthy: boolean;
  /** Counts one outcome; true when it flipped the target between healthy and unhealthy. */
  record(outcome: ProbeOutcome): boolean;
}

/**
 * The per-target state machine of §7.3: targets start healthy; a success clears the failure counters and
 * any failure clears the success counter; healthy → unhealthy when one failure counter reaches its
 * limit (`http_failures`, `tcp_failures`, `timeouts`), unhealthy → healthy after `healthy.successes`
 * successes in a row.
 *
 * @example
 *   const target = createTargetHealth(thresholds); // tcp_failures: 2
 *   target.record('tcp-failure'); target.record('tcp-failure'); // true: now unhealthy
 */
export function createTargetHealth(thresholds: HealthThresholds): TargetHealth {
  let healthy = true;
  let successes = 0;
  const failures = { 'http-failure': 0, 'tcp-failure': 0, timeout: 0 };
  const limits = {
    'http-failure': thresholds.unhealthy.httpFailures,
    'tcp-failure': thresholds.unhealthy.tcpFailures,
    timeout: thresholds.unhealthy.timeouts,
  };
  return {
    get healthy() {
      return healthy;
    },
    record(outcome) {
      if (outcome === 'ignored') return false;
      if (outcome === 'success') {
        failures['http-failure'] = 0;
        failures['tcp-failure'] = 0;
        failures.timeout = 0;
        successes += 1;
        if (healthy || successes < thresholds.healthy.successes) return false;
        healthy = true;
        return true;
      }
      successes = 0;
      failures[outcome] += 1;
      if (!healthy || failures[outcome] < limits[outcome]) return false;
      healthy = false;
      return true;
    },
  };
}
