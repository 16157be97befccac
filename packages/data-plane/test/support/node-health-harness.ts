import type { ProbeResult, ProbeSpec } from '@switchboard/core';
import type { HealthSnapshot } from '../../src/health/health-board.js';
import { createNodeHealth, type NodeHealth } from '../../src/health/node-health.js';
import type { HostLookup } from '../../src/health/resolve-targets.js';
import {
  type CapturedLogger,
  captureLogger,
  createTempStore,
  defaultConfig,
  type TempStore,
  waitFor,
} from './harness.js';
import { createManualTime, type ManualTime } from './manual-time.js';

/**
 * A node's health service (ai-proxy-multi.md §7.1) fed by a fresh embedded store, on a manual clock,
 * with a prober that answers 200 unless the test marked the probe's target down.
 */
export interface NodeHealthHarness<DownKey> {
  readonly health: NodeHealth;
  readonly store: TempStore;
  readonly time: ManualTime;
  readonly log: CapturedLogger;
  /** Every probe sent, in order. */
  readonly probed: ProbeSpec[];
  /** Probes whose key (see `downKeyOf`) is here fail with a refused connection. */
  readonly down: Set<DownKey>;
  /** Every snapshot the service published. */
  readonly snapshots: HealthSnapshot[];
  /** Writes `value` at `key` and resolves once the health service applied it. */
  put(key: string, value: unknown): Promise<void>;
  /** Deletes `key` and resolves once the health service applied it. */
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface NodeHealthHarnessOptions<DownKey> {
  /** What `down` holds for a probe: its port, its host, … */
  readonly downKeyOf: (spec: ProbeSpec) => DownKey;
  /** The resolver for checked hosts (default: the system's). */
  readonly lookup?: HostLookup;
  readonly resolveIntervalMs?: number;
}

/**
 * @example
 *   const harness = await startNodeHealthHarness({ downKeyOf: (spec) => spec.port });
 *   harness.down.add(1001);
 *   await harness.put('/apisix/routes/1', route);
 *   await harness.time.advance(0);
 */
export async function startNodeHealthHarness<DownKey>(
  options: NodeHealthHarnessOptions<DownKey>,
): Promise<NodeHealthHarness<DownKey>> {
  const store = await createTempStore();
  const time = createManualTime();
  const log = captureLogger();
  const probed: ProbeSpec[] = [];
  const down = new Set<DownKey>();
  const snapshots: HealthSnapshot[] = [];
  const health = createNodeHealth({
    prefix: '/apisix',
    logger: log.logger,
    dataEncryption: defaultConfig().apisix.data_encryption,
    now: time.now,
    timers: time.timers,
    ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    ...(options.resolveIntervalMs === undefined ? {} : { resolveIntervalMs: options.resolveIntervalMs }),
    probe: async (spec): Promise<ProbeResult> => {
      probed.push(spec);
      return down.has(options.downKeyOf(spec))
        ? { kind: 'tcp-failure', reason: 'ECONNREFUSED' }
        : { kind: 'status', status: 200 };
    },
  });
  health.subscribe((snapshot) => snapshots.push(snapshot));
  let applied = 0;
  store.store.start('/apisix', {
    onSnapshot(items, revision) {
      health.listener.onSnapshot(items, revision);
      applied = revision;
    },
    onChanges(events, revision) {
      health.listener.onChanges(events, revision);
      applied = revision;
    },
  });
  const appliedAt = (revision: number) =>
    waitFor(() => (applied >= revision ? true : undefined), { what: `revision ${revision} applied` });
  return {
    health,
    store,
    time,
    log,
    probed,
    down,
    snapshots,
    async put(key, value) {
      await appliedAt(await store.put(key, value));
    },
    async remove(key) {
      const before = applied;
      await store.remove(key);
      await appliedAt(before + 1);
    },
    async close() {
      health.close();
      await store.close();
    },
  };
}
