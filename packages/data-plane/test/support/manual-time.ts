import type { HealthCheckTimers } from '@switchboard/core';

/** A clock the test moves and the timers it fires: probing, lookups and cooldowns without waiting. */
export interface ManualTime {
  readonly timers: HealthCheckTimers;
  now(): number;
  /** How many timers are waiting. */
  pendingCount(): number;
  /** Moves the clock by `ms` and fires what is due, letting the probes and lookups it starts settle. */
  advance(ms: number): Promise<void>;
}

/**
 * @example
 *   const time = createManualTime();
 *   const health = createNodeHealth({ ...options, now: time.now, timers: time.timers });
 *   await time.advance(1000);
 */
export function createManualTime(): ManualTime {
  let now = 0;
  const pending = new Map<number, { callback: () => void; at: number }>();
  let next = 0;
  const timers: HealthCheckTimers = {
    setTimeout(callback, ms) {
      next += 1;
      pending.set(next, { callback, at: now + ms });
      return next;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    now: () => now,
    pendingCount: () => pending.size,
    async advance(ms: number): Promise<void> {
      now += ms;
      const due = [...pending.entries()].filter(([, timer]) => timer.at <= now);
      for (const [handle] of due) pending.delete(handle);
      for (const [, timer] of due) timer.callback();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
