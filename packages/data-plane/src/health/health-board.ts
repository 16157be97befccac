import type { PassiveObservation } from '@switchboard/core';

/**
 * The node's instance health as one worker reads it (DECISIONS: health is per node, shared by every
 * worker). Keys name one instance of one plugin conf: `instanceHealthKey(holderKey, instanceName)`.
 */
export interface InstanceHealthBoard {
  /** Bumped whenever any instance's health changes, so pickers built on it are kept until then. */
  version(): number;
  /** Unknown keys are healthy (ai-proxy-multi.md §2.6: no checker → healthy). */
  isHealthy(key: string): boolean;
  /** The probe targets of a checked instance whose host resolved to several addresses (§2.10). */
  targetsOf(key: string): InstanceTargets | undefined;
  /** What live traffic taught about an instance (passive health); ignored for confs without it. */
  report(key: string, observation: PassiveObservation): void;
}

/** One address of an instance's host and its probe state (ai-proxy-multi.md §7.3). */
export interface TargetHealthState {
  readonly address: string;
  readonly healthy: boolean;
}

/** The host a checked instance is called on, and the addresses it resolved to, sorted (§2.10). */
export interface InstanceTargets {
  readonly host: string;
  readonly targets: readonly TargetHealthState[];
}

/** The health the primary publishes to its workers: every instance currently out, sorted. */
export interface HealthSnapshot {
  readonly version: number;
  readonly unhealthy: readonly string[];
  /**
   * By instance key, the targets of checked instances whose host resolved to more than one address:
   * requests to them connect to one healthy address (§2.10). Absent or missing key: connect by name.
   */
  readonly targets?: Readonly<Record<string, InstanceTargets>>;
}

/**
 * `<holder key>#<instance name>`: the instance's identity for health, as APISIX keys its checkers by
 * the resource holding the plugin (§7.1). Instance names are unique within a conf (§1.11).
 *
 * @example instanceHealthKey('/apisix/routes/1', 'gpt-4'); // '/apisix/routes/1#gpt-4'
 */
export function instanceHealthKey(holderKey: string, instanceName: string): string {
  return `${holderKey}#${instanceName}`;
}

/** Everything healthy, reports dropped: a data plane without a health service (unit tests). */
export const NO_HEALTH_BOARD: InstanceHealthBoard = {
  version: () => 0,
  isHealthy: () => true,
  targetsOf: () => undefined,
  report: () => {},
};

/**
 * A board that serves the last snapshot it was given and hands reports to `send`: what a worker holds,
 * fed by the primary over IPC. A success is only sent after a failure this worker reported, so healthy
 * traffic costs no IPC message; consecutive failures are therefore counted per node between the
 * successes each worker saw.
 *
 * @example
 *   const { board, apply } = createSnapshotHealthBoard((key, observation) => process.send?.({ … }));
 *   apply({ version: 3, unhealthy: ['/apisix/routes/1#a'] });
 */
export function createSnapshotHealthBoard(send: (key: string, observation: PassiveObservation) => void): {
  readonly board: InstanceHealthBoard;
  apply(snapshot: HealthSnapshot): void;
} {
  let version = 0;
  let unhealthy: ReadonlySet<string> = new Set();
  let targets: ReadonlyMap<string, InstanceTargets> = new Map();
  const failedSinceSuccess = new Set<string>();
  return {
    board: {
      version: () => version,
      isHealthy: (key) => !unhealthy.has(key),
      targetsOf: (key) => targets.get(key),
      report(key, observation) {
        if (observation.kind === 'success') {
          if (!failedSinceSuccess.delete(key)) return;
        } else if (observation.kind === 'failure') {
          failedSinceSuccess.add(key);
        }
        send(key, observation);
      },
    },
    apply(snapshot) {
      if (snapshot.version === version) return;
      version = snapshot.version;
      unhealthy = new Set(snapshot.unhealthy);
      targets = new Map(Object.entries(snapshot.targets ?? {}));
    },
  };
}
