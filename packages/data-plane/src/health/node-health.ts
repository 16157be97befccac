import {
  type ActiveCheckSpec,
  type CheckedInstance,
  type ConfigListener,
  createActiveHealthChecker,
  createFieldCipher,
  createPassiveHealthTracker,
  type DataEncryptionConfig,
  type HealthCheckTimers,
  type PassiveHealthConf,
  type PassiveObservation,
  type Prober,
  probeTarget,
  REAL_HEALTH_CHECK_TIMERS,
} from '@switchboard/core';
import type { Logger } from 'pino';
import { createResourceCollections } from '../config/resource-collections.js';
import type { HealthSnapshot, InstanceTargets } from './health-board.js';
import { watchListFromConfig } from './health-watch-list.js';
import { createHostResolver, HOST_RESOLVE_INTERVAL_MS, type HostLookup, systemHostLookup } from './resolve-targets.js';

export interface NodeHealthOptions {
  readonly prefix: string;
  readonly logger: Logger;
  readonly dataEncryption: DataEncryptionConfig;
  /** Monotonic milliseconds, for passive cooldowns. */
  readonly now?: () => number;
  readonly timers?: HealthCheckTimers;
  readonly probe?: Prober;
  /** Resolves checked hosts to all their addresses (§2.10); node's `dns.lookup` by default. */
  readonly lookup?: HostLookup;
  /** How often checked hosts are resolved again; `HOST_RESOLVE_INTERVAL_MS` by default. */
  readonly resolveIntervalMs?: number;
}

/** The one health service of a data-plane node (architecture.md "Processes per role"). */
export interface NodeHealth {
  /** Feed it the same config as the workers (it loads and validates items the same way). */
  readonly listener: ConfigListener;
  snapshot(): HealthSnapshot;
  /** Called with every new snapshot (an instance went out or came back). */
  subscribe(onSnapshot: (snapshot: HealthSnapshot) => void): void;
  /** A passive observation from a worker; ignored unless the instance's conf has `passive_health`. */
  report(key: string, observation: PassiveObservation): void;
  /** Stops every probe and timer. */
  close(): void;
}

/**
 * The node's health service (ai-proxy-multi.md §7, DECISIONS "health is per node"): it runs in the
 * data-plane primary (or in the only process with `workers: 0`), follows the config like a worker does,
 * resolves every checked host to all its addresses and probes each address once for the whole node
 * (§2.10), folds in passive observations the workers report, and publishes one snapshot: the instances
 * that are out, and the per-address state of hosts with several addresses. Checks of unchanged
 * instances keep their state across config changes and new DNS answers; a deleted route's checks stop
 * (§7.1).
 *
 * @example
 *   const health = createNodeHealth({ prefix: '/apisix', logger, dataEncryption });
 *   health.subscribe((snapshot) => broadcast({ sb: 'health', snapshot }));
 *   source.start('/apisix', health.listener);
 */
export function createNodeHealth(options: NodeHealthOptions): NodeHealth {
  const { logger } = options;
  const now = options.now ?? (() => performance.now());
  const timers = options.timers ?? REAL_HEALTH_CHECK_TIMERS;
  const cipher = options.dataEncryption.enable_encrypt_fields
    ? createFieldCipher(options.dataEncryption.keyring)
    : undefined;
  const collections = createResourceCollections({
    prefix: options.prefix,
    // Invalid items are reported by every worker already; the health service keeps quiet about them.
    logger: logger.child({ component: 'health' }, { level: 'error' }),
    loadDeps: () => ({ cipher, onDecryptFailure: () => {} }),
  });
  const subscribers: Array<(snapshot: HealthSnapshot) => void> = [];
  let passiveConfs: ReadonlyMap<string, PassiveHealthConf> = new Map();
  let activeSpecs: ReadonlyMap<string, ActiveCheckSpec> = new Map();
  let current: HealthSnapshot = { version: 0, unhealthy: [] };
  /** What `current` says, to publish only changes (a first load with nothing out publishes nothing). */
  let published = JSON.stringify({ unhealthy: [], targets: {} });
  let returnTimer: unknown;
  const tracker = createPassiveHealthTracker({ now });
  const checker = createActiveHealthChecker({
    probe: options.probe ?? probeTarget,
    timers,
    onChange: () => publish(),
    onProbe: (key, result, address) => logger.debug({ instance: key, address, result }, 'health probe'),
  });
  const resolver = createHostResolver({
    lookup: options.lookup ?? systemHostLookup,
    timers,
    intervalMs: options.resolveIntervalMs ?? HOST_RESOLVE_INTERVAL_MS,
    onChange: () => syncChecks(),
    onError: (host, error) =>
      logger.warn({ host, err: error }, 'failed to resolve a health-checked host; keeping its last addresses'),
  });

  /** Probes the instances whose host has been resolved; the others count as healthy meanwhile (§2.6). */
  function syncChecks(): void {
    const instances = new Map<string, CheckedInstance>();
    for (const [key, spec] of activeSpecs) {
      const addresses = resolver.addressesOf(spec.probe.host);
      if (addresses !== undefined) instances.set(key, { spec, addresses });
    }
    checker.sync(instances);
    publish();
  }

  /** §2.10: only hosts with several addresses need an address picked per request. */
  function targetsByInstance(): Record<string, InstanceTargets> {
    const targets: Record<string, InstanceTargets> = {};
    for (const [key, spec] of [...activeSpecs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const states = checker.targetsOf(key);
      if (states !== undefined && states.length > 1) targets[key] = { host: spec.probe.host, targets: states };
    }
    return targets;
  }

  function publish(): void {
    const at = now();
    const unhealthy = [...new Set([...checker.unhealthyKeys(), ...tracker.outKeys(at)])].sort();
    const targets = targetsByInstance();
    scheduleReturn(at);
    const serialized = JSON.stringify({ unhealthy, targets });
    if (serialized === published) return;
    published = serialized;
    logTransitions(current, unhealthy, targets);
    current = { version: current.version + 1, unhealthy, targets };
    for (const subscriber of subscribers) subscriber(current);
  }

  function logTransitions(
    previous: HealthSnapshot,
    unhealthy: readonly string[],
    targets: Readonly<Record<string, InstanceTargets>>,
  ): void {
    const wasUnhealthy = new Set(previous.unhealthy);
    for (const key of unhealthy) if (!wasUnhealthy.has(key)) logger.warn({ instance: key }, 'ai instance is unhealthy');
    for (const key of wasUnhealthy)
      if (!unhealthy.includes(key)) logger.info({ instance: key }, 'ai instance is healthy again');
    for (const [key, { targets: states }] of Object.entries(targets)) {
      const before = new Map(previous.targets?.[key]?.targets.map((state) => [state.address, state.healthy]));
      for (const { address, healthy } of states) {
        if (before.get(address) === healthy || (healthy && !before.has(address))) continue;
        if (healthy) logger.info({ instance: key, address }, 'ai instance address is healthy again');
        else logger.warn({ instance: key, address }, 'ai instance address is unhealthy');
      }
    }
  }

  /** A passive cooldown ends without any event: publish when it does. */
  function scheduleReturn(at: number): void {
    if (returnTimer !== undefined) timers.clearTimeout(returnTimer);
    returnTimer = undefined;
    const next = tracker.nextReturnAt(at);
    if (next !== undefined) returnTimer = timers.setTimeout(() => publish(), Math.max(0, next - at));
  }

  function follow(changed: boolean): void {
    if (!changed) return;
    try {
      const watch = watchListFromConfig(collections.view());
      passiveConfs = watch.passive;
      activeSpecs = watch.active;
      tracker.retain(new Set(watch.passive.keys()));
      resolver.watch(new Set([...watch.active.values()].map((spec) => spec.probe.host)));
      syncChecks();
    } catch (error) {
      // Never take the primary down for a config the health service cannot read (§7.1).
      logger.error({ err: error }, 'failed to update health checks; the previous ones keep running');
    }
  }

  return {
    listener: {
      onSnapshot: (items, revision) => follow(collections.applySnapshot(items, revision)),
      onChanges: (events) => follow(collections.applyChanges(events)),
    },
    snapshot: () => current,
    subscribe(onSnapshot) {
      subscribers.push(onSnapshot);
    },
    report(key, observation) {
      const conf = passiveConfs.get(key);
      if (conf === undefined) return;
      if (tracker.record(key, conf, observation)) {
        logger.warn({ instance: key, observation: observation.kind }, 'ai instance taken out by passive health');
        publish();
      }
    },
    close() {
      checker.close();
      resolver.close();
      if (returnTimer !== undefined) timers.clearTimeout(returnTimer);
      returnTimer = undefined;
    },
  };
}
