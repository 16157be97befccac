import type { HealthCheckTimers } from '../../src/health/active-health-checker.js';

/** Timers the test fires by hand, so probing runs without real waiting. */
export interface ManualTimers {
  readonly timers: HealthCheckTimers;
  /** The delays of the timers waiting now, in the order they were set. */
  pendingDelays(): number[];
  /** Fires every timer waiting now and waits for the probes they start. */
  fireAll(): Promise<void>;
}

/**
 * @example
 *   const manual = createManualTimers();
 *   const checker = createActiveHealthChecker({ probe, timers: manual.timers, onChange });
 *   await manual.fireAll();
 */
export function createManualTimers(): ManualTimers {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  const timers: HealthCheckTimers = {
    setTimeout(callback, ms) {
      next += 1;
      pending.set(next, { callback, ms });
      return next;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    pendingDelays: () => [...pending.values()].map((timer) => timer.ms),
    async fireAll(): Promise<void> {
      const due = [...pending.values()];
      pending.clear();
      for (const timer of due) timer.callback();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
