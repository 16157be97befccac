import { isDeepStrictEqual } from 'node:util';
import { type ActiveCheckSpec, probeAt } from './active-check-spec.js';
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

/** One checked instance: its check, and the addresses its endpoint host resolved to (§2.10). */
export interface CheckedInstance {
  readonly spec: ActiveCheckSpec;
  /** Each address is one probe target; order and duplicates do not matter (they are sorted, §2.10). */
  readonly addresses: readonly string[];
}

/** One probe target of an instance and its health (§7.3). */
export interface TargetStatus {
  readonly address: string;
  readonly healthy: boolean;
}

export interface ActiveHealthCheckerOptions {
  readonly probe: Prober;
  readonly timers: HealthCheckTimers;
  /** Called when what the checker reports changed: a target flipped, or `sync` added or removed targets. */
  readonly onChange: () => void;
  /** Called for each probe, for debug logs and tests. */
  readonly onProbe?: (key: string, result: ProbeResult, address: string) => void;
}

export interface ActiveHealthChecker {
  /**
   * Makes `instances` the set being probed (§7.1). An instance whose spec is unchanged keeps the state
   * and schedule of every address it still has, probes new addresses right away and drops gone ones
   * (only the DNS answer changed); a new instance or a changed spec starts every target over, healthy;
   * a missing instance stops.
   */
  sync(instances: ReadonlyMap<string, CheckedInstance>): void;
  /**
   * §2.6: healthy when at least one target is; an instance without targets is unhealthy; an unknown key
   * is healthy (no checker → healthy).
   */
  isHealthy(key: string): boolean;
  /** The instance's targets sorted by address, or undefined for an unknown key. */
  targetsOf(key: string): readonly TargetStatus[] | undefined;
  unhealthyKeys(): string[];
  /** Stops every timer; probes in flight are discarded when they end. */
  close(): void;
}

interface RunningTarget {
  readonly address: string;
  readonly health: TargetHealth;
  timer: unknown;
  stopped: boolean;
}

interface RunningInstance {
  readonly key: string;
  readonly spec: ActiveCheckSpec;
  /** By address, in address order. */
  targets: Map<string, RunningTarget>;
  inFlight: number;
  /** Targets due while `concurrency` probes were in flight, in the order they came due. */
  readonly waiting: RunningTarget[];
}

/** §2.10: sorted, so a DNS answer in another order is not a change. */
function normalizedAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses)].sort();
}

/**
 * The node's active health checker (ai-proxy-multi.md §7): per instance, one target per address its
 * endpoint host resolved to (§2.10), each probed every `healthy.interval` while healthy and every
 * `unhealthy.interval` while not, each probe scheduled after the previous one of that target ended so
 * probes of a target never overlap, and at most `concurrency` probes of one instance in flight (§7.2).
 *
 * @example
 *   const checker = createActiveHealthChecker({ probe: probeTarget, timers: REAL_HEALTH_CHECK_TIMERS, onChange: publish });
 *   checker.sync(new Map([['/apisix/routes/1#a', { spec, addresses: ['10.0.0.7', '10.0.0.8'] }]]));
 *   checker.targetsOf('/apisix/routes/1#a'); // [{ address: '10.0.0.7', healthy: true }, …]
 */
export function createActiveHealthChecker(options: ActiveHealthCheckerOptions): ActiveHealthChecker {
  const running = new Map<string, RunningInstance>();

  function schedule(instance: RunningInstance, target: RunningTarget, delayMs: number): void {
    target.timer = options.timers.setTimeout(() => {
      target.timer = undefined;
      if (instance.inFlight < instance.spec.concurrency) void probeOnce(instance, target);
      else instance.waiting.push(target);
    }, delayMs);
  }

  async function probeOnce(instance: RunningInstance, target: RunningTarget): Promise<void> {
    instance.inFlight += 1;
    let result: ProbeResult;
    try {
      result = await options.probe(probeAt(instance.spec.probe, target.address));
    } catch (error) {
      // A prober that throws (a bad address, say) is a failed probe, never a dead timer (§7.1).
      result = { kind: 'tcp-failure', reason: error instanceof Error ? error.message : String(error) };
    }
    instance.inFlight -= 1;
    startWaiting(instance);
    if (target.stopped) return;
    options.onProbe?.(instance.key, result, target.address);
    if (target.health.record(classifyProbeResult(result, instance.spec.thresholds))) options.onChange();
    const { healthy, unhealthy } = instance.spec.thresholds;
    schedule(instance, target, target.health.healthy ? healthy.intervalMs : unhealthy.intervalMs);
  }

  function startWaiting(instance: RunningInstance): void {
    while (instance.inFlight < instance.spec.concurrency) {
      const next = instance.waiting.shift();
      if (next === undefined) return;
      if (!next.stopped) void probeOnce(instance, next);
    }
  }

  function startTarget(instance: RunningInstance, address: string): RunningTarget {
    const target: RunningTarget = {
      address,
      health: createTargetHealth(instance.spec.thresholds),
      timer: undefined,
      stopped: false,
    };
    schedule(instance, target, 0);
    return target;
  }

  function stopTarget(target: RunningTarget): void {
    target.stopped = true;
    if (target.timer !== undefined) options.timers.clearTimeout(target.timer);
    target.timer = undefined;
  }

  /** Only the addresses changed (§7.1): unchanged targets keep their state. True when any changed. */
  function reconcileTargets(instance: RunningInstance, addresses: readonly string[]): boolean {
    const next = normalizedAddresses(addresses);
    const current = [...instance.targets.keys()];
    if (isDeepStrictEqual(next, current)) return false;
    const targets = new Map<string, RunningTarget>();
    for (const address of next) targets.set(address, instance.targets.get(address) ?? startTarget(instance, address));
    for (const [address, target] of instance.targets) if (!targets.has(address)) stopTarget(target);
    instance.targets = targets;
    return true;
  }

  function startInstance(key: string, checked: CheckedInstance): RunningInstance {
    const instance: RunningInstance = { key, spec: checked.spec, targets: new Map(), inFlight: 0, waiting: [] };
    for (const address of normalizedAddresses(checked.addresses))
      instance.targets.set(address, startTarget(instance, address));
    return instance;
  }

  function stopInstance(instance: RunningInstance): void {
    for (const target of instance.targets.values()) stopTarget(target);
    instance.waiting.length = 0;
  }

  const anyHealthy = (instance: RunningInstance): boolean =>
    [...instance.targets.values()].some((target) => target.health.healthy);

  return {
    sync(instances) {
      let changed = false;
      for (const [key, instance] of running) {
        const next = instances.get(key);
        if (next !== undefined && isDeepStrictEqual(next.spec, instance.spec)) {
          changed = reconcileTargets(instance, next.addresses) || changed;
          continue;
        }
        stopInstance(instance);
        running.delete(key);
        changed = true;
      }
      for (const [key, checked] of instances) {
        if (running.has(key)) continue;
        running.set(key, startInstance(key, checked));
        changed = true;
      }
      if (changed) options.onChange();
    },
    isHealthy(key) {
      const instance = running.get(key);
      return instance === undefined || anyHealthy(instance);
    },
    targetsOf(key) {
      const instance = running.get(key);
      if (instance === undefined) return undefined;
      return [...instance.targets.values()].map((target) => ({
        address: target.address,
        healthy: target.health.healthy,
      }));
    },
    unhealthyKeys: () => [...running.values()].filter((instance) => !anyHealthy(instance)).map(({ key }) => key),
    close() {
      for (const instance of running.values()) stopInstance(instance);
      running.clear();
    },
  };
}
