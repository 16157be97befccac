import { createConsistentHashPicker } from './chash-picker.js';
import {
  createPriorityPicker,
  createWeightedRoundRobinPicker,
  type Picker,
  type PrioritizedInstance,
} from './picker.js';

/** The algorithms that pick through the balancer; `semantic` picks elsewhere (§2.11). */
export type PickAlgorithm = 'roundrobin' | 'chash';

/** The health of the instances of one plugin conf, as the node's health checker last reported it. */
export interface HealthLookup {
  /** Changes whenever any instance's health changes (so a picker built on it can be kept until then). */
  version(): number;
  isHealthy(name: string): boolean;
}

/** Every instance healthy, forever: configs without checks, and tests. */
export const ALL_HEALTHY: HealthLookup = { version: () => 0, isHealthy: () => true };

/** One pick of one request: `tried` is the request's own set, shared by all its attempts. */
export interface PickRequest {
  /** Instances tried (or skipped) in this request; the pick loop adds the ones it skips. */
  readonly tried: Set<string>;
  readonly hashKey?: string | undefined;
}

export type SkipReason = 'unhealthy' | 'unavailable';

/** What the pick loop consults for each candidate (ai-proxy-multi.md §2.6, §2.7). */
export interface PickGates {
  readonly health: HealthLookup;
  /** Told about each skipped candidate, for the §8.3 warn lines. */
  readonly onSkip?: ((name: string, reason: SkipReason) => void) | undefined;
}

export interface InstanceBalancer {
  /** The instance for the next attempt, or undefined when nothing is left (`all servers tried`). */
  pick(request: PickRequest, gates: PickGates): string | undefined;
}

export interface InstanceBalancerOptions {
  readonly algorithm: PickAlgorithm;
  readonly instances: readonly PrioritizedInstance[];
  /** Draws each round-robin picker's start position. */
  readonly random: () => number;
}

/** The instances health lets in: the healthy ones, or all of them when none is (§2.6: health is then ignored). */
function admittedByHealth(instances: readonly PrioritizedInstance[], health: HealthLookup): PrioritizedInstance[] {
  const healthy = instances.filter((instance) => health.isHealthy(instance.name));
  return healthy.length === 0 ? [...instances] : healthy;
}

/**
 * Round robin over the healthy instances only (§2.4): the picker is rebuilt when the set of healthy
 * instances changes (a fresh random start, like APISIX's picker cache keyed by the health version, §2.8)
 * and kept otherwise, so the round-robin position advances across requests.
 */
function createHealthAwareRoundRobin(options: InstanceBalancerOptions): (health: HealthLookup) => Picker {
  let builtForVersion: number | undefined;
  let builtForNames = '';
  let picker: Picker | undefined;
  return (health) => {
    const version = health.version();
    if (picker !== undefined && version === builtForVersion) return picker;
    const admitted = admittedByHealth(options.instances, health);
    const names = admitted.map((instance) => instance.name).join('\n');
    if (picker === undefined || names !== builtForNames) {
      picker = createPriorityPicker(admitted, (tier) => createWeightedRoundRobinPicker(tier, options));
      builtForNames = names;
    }
    builtForVersion = version;
    return picker;
  };
}

/**
 * Instance selection for ai-proxy-multi (ai-proxy-multi.md §2.1–§2.9): priority tiers over weighted round
 * robin or consistent hashing and health exclusion, with a per-request `tried` set so a retry never
 * re-picks an instance (DECISIONS).
 *
 * - One instance: always that instance, unconditionally (§2.1: no health, no rate check, no retry).
 * - `roundrobin`: unhealthy instances are absent from the picker; all unhealthy → all used (§2.6).
 * - `chash`: the ring holds every instance; an unhealthy pick is marked tried and the walk goes on, so
 *   the ring stays stable when health changes (§2.5, §2.7).
 * - The rate-limit exclusion (§2.7) is asynchronous and wraps this: fallback/instance-availability.ts.
 *
 * @example
 *   const balancer = createInstanceBalancer({ algorithm: 'roundrobin', instances, random: Math.random });
 *   const tried = new Set<string>();
 *   balancer.pick({ tried }, { health: ALL_HEALTHY }); // 'a'; after it fails: tried.add('a'), pick again
 */
export function createInstanceBalancer(options: InstanceBalancerOptions): InstanceBalancer {
  const [only] = options.instances;
  if (options.instances.length === 1 && only !== undefined) {
    return { pick: (request) => (request.tried.has(only.name) ? undefined : only.name) };
  }
  const roundRobinFor = createHealthAwareRoundRobin(options);
  const ring =
    options.algorithm === 'chash' ? createPriorityPicker(options.instances, createConsistentHashPicker) : undefined;
  let anyHealthyForVersion: { version: number; anyHealthy: boolean } | undefined;
  const chashHealthApplies = (health: HealthLookup): boolean => {
    const version = health.version();
    if (anyHealthyForVersion?.version !== version) {
      const anyHealthy = options.instances.some((instance) => health.isHealthy(instance.name));
      anyHealthyForVersion = { version, anyHealthy };
    }
    return anyHealthyForVersion.anyHealthy;
  };

  return {
    pick(request, gates) {
      const picker = ring ?? roundRobinFor(gates.health);
      const checkHealth = ring !== undefined && chashHealthApplies(gates.health);
      // Each skip adds one name to `tried`, so this ends after at most one pass over the instances.
      for (;;) {
        const name = picker.pick(request);
        if (name === undefined) return undefined;
        if (!checkHealth || gates.health.isHealthy(name)) return name;
        gates.onSkip?.(name, 'unhealthy');
        request.tried.add(name);
      }
    },
  };
}
