import { isDeepStrictEqual } from 'node:util';
import type { ActiveCheckSpec } from './active-check-spec.js';
import type { Prober } from './probe.js';
import { classifyProbeResult, createTargetHealth, type ProbeResult, type TargetHealth } from './target-health.js';

/** Timers, injected so tests drive probing with a fake clock (STYLE "Tests"). */
export interface HealthCheckTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers that never keep the process alive on their own. */
export const REAL_HEALTH_CHECK_TIMERS: HealthCheckTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ActiveHealthCheckerOptions {
  readonly probe: Prober;
  readonly timers: HealthCheckTimers;
  /** Called after a target flipped, or a check holding an unhealthy target was dropped. */
  readonly onChange: () => void;
  /** Called for each probe, for debug logs and tests. */
  readonly onProbe?: (key: string, result: ProbeResult) => void;
}

export interface ActiveHealthChecker {
  /**
   * Makes `checks` the set being probed: a key whose spec is unchanged keeps its state and schedule,
   * a new or changed one starts healthy with a probe right away, a missing one stops (§7.1).
   */
  sync(checks: ReadonlyMap<string, ActiveCheckSpec>): void;
  /** Unknown keys are healthy (§2.6: a target the checker does not know counts as healthy). */
  isHealthy(key: string): boolean;
  unhealthyKeys(): string[];
  /** Stops every timer; probes in flight are discarded when they end. */
  close(): void;
}

interface RunningCheck {
  readonly spec: ActiveCheckSpec;
  readonly health: TargetHealth;
  timer: unknown;
  stopped: boolean;
}

/**
 * The node's active health checker (ai-proxy-multi.md §7): one target per key (a plugin conf's
 * instance), probed every `healthy.interval` while healthy and every `unhealthy.interval` while not,
 * each probe scheduled after the previous one ended so probes of a target never overlap.
 *
 * @example
 *   const checker = createActiveHealthChecker({ probe: probeTarget, timers: REAL_HEALTH_CHECK_TIMERS, onChange: publish });
 *   checker.sync(new Map([['/apisix/routes/1#a', spec]]));
 */
export function createActiveHealthChecker(options: ActiveHealthCheckerOptions): ActiveHealthChecker {
  const running = new Map<string, RunningCheck>();

  function schedule(key: string, check: RunningCheck, delayMs: number): void {
    check.timer = options.timers.setTimeout(() => void probeOnce(key, check), delayMs);
  }

  async function probeOnce(key: string, check: RunningCheck): Promise<void> {
    check.timer = undefined;
    let result: ProbeResult;
    try {
      result = await options.probe(check.spec.probe);
    } catch (error) {
      // A prober that throws (a bad address, say) is a failed probe, never a dead timer (§7.1).
      result = { kind: 'tcp-failure', reason: error instanceof Error ? error.message : String(error) };
    }
    if (check.stopped) return;
    options.onProbe?.(key, result);
    if (check.health.record(classifyProbeResult(result, check.spec.thresholds))) options.onChange();
    const { healthy, unhealthy } = check.spec.thresholds;
    schedule(key, check, check.health.healthy ? healthy.intervalMs : unhealthy.intervalMs);
  }

  function stop(check: RunningCheck): void {
    check.stopped = true;
    if (check.timer !== undefined) options.timers.clearTimeout(check.timer);
    check.timer = undefined;
  }

  return {
    sync(checks) {
      let dropped = false;
      for (const [key, check] of running) {
        const next = checks.get(key);
        if (next !== undefined && isDeepStrictEqual(next, check.spec)) continue;
        stop(check);
        running.delete(key);
        dropped ||= !check.health.healthy;
      }
      for (const [key, spec] of checks) {
        if (running.has(key)) continue;
        const check: RunningCheck = {
          spec,
          health: createTargetHealth(spec.thresholds),
          timer: undefined,
          stopped: false,
        };
        running.set(key, check);
        schedule(key, check, 0);
      }
      if (dropped) options.onChange();
    },
    isHealthy: (key) => running.get(key)?.health.healthy ?? true,
    unhealthyKeys: () => [...running].filter(([, check]) => !check.health.healthy).map(([key]) => key),
    close() {
      for (const check of running.values()) stop(check);
      running.clear();
    },
  };
}
