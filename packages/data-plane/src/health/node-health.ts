import {
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
import type { HealthSnapshot } from './health-board.js';
import { watchListFromConfig } from './health-watch-list.js';

export interface NodeHealthOptions {
  readonly prefix: string;
  readonly logger: Logger;
  readonly dataEncryption: DataEncryptionConfig;
  /** Monotonic milliseconds, for passive cooldowns. */
  readonly now?: () => number;
  readonly timers?: HealthCheckTimers;
  readonly probe?: Prober;
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
 * probes every checked instance once for the whole node, folds in passive observations the workers
 * report, and publishes one snapshot of the instances that are out. Checks of unchanged instances keep
 * their state across config changes; a deleted route's checks stop (§7.1).
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
  let current: HealthSnapshot = { version: 0, unhealthy: [] };
  let returnTimer: unknown;
  const tracker = createPassiveHealthTracker({ now });
  const checker = createActiveHealthChecker({
    probe: options.probe ?? probeTarget,
    timers,
    onChange: () => publish(),
    onProbe: (key, result) => logger.debug({ instance: key, result }, 'health probe'),
  });

  function publish(): void {
    const at = now();
    const unhealthy = [...new Set([...checker.unhealthyKeys(), ...tracker.outKeys(at)])].sort();
    scheduleReturn(at);
    if (unhealthy.join('\n') === current.unhealthy.join('\n')) return;
    const previous = new Set(current.unhealthy);
    for (const key of unhealthy) if (!previous.has(key)) logger.warn({ instance: key }, 'ai instance is unhealthy');
    for (const key of previous)
      if (!unhealthy.includes(key)) logger.info({ instance: key }, 'ai instance is healthy again');
    current = { version: current.version + 1, unhealthy };
    for (const subscriber of subscribers) subscriber(current);
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
      tracker.retain(new Set(watch.passive.keys()));
      checker.sync(watch.active);
      publish();
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
      if (returnTimer !== undefined) timers.clearTimeout(returnTimer);
      returnTimer = undefined;
    },
  };
}
