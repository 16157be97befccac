import type { PrepareScope } from '../plugins/runtime-plugin.js';
import { createAddressRoutingDispatcher } from '../upstream/dispatchers.js';
import { type InstanceHealthBoard, type InstanceTargets, instanceHealthKey } from './health-board.js';

/**
 * The address one request to a health-checked instance connects to (ai-proxy-multi.md §2.10): uniformly
 * at random among the healthy addresses of its host, or among all of them when none is healthy.
 * Undefined — connect by name, as an unchecked instance does — when the host has fewer than two
 * addresses or `host` is not the host the targets belong to.
 *
 * @example chooseTargetAddress({ host: 'llm', targets: [{ address: 'a', healthy: false }, { address: 'b', healthy: true }] }, 'llm', Math.random); // 'b'
 */
export function chooseTargetAddress(
  targets: InstanceTargets | undefined,
  host: string,
  random: () => number,
): string | undefined {
  if (targets === undefined || targets.host !== host || targets.targets.length < 2) return undefined;
  const healthy = targets.targets.filter((target) => target.healthy);
  const candidates = healthy.length > 0 ? healthy : targets.targets;
  return candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))]?.address;
}

/** URL hostnames of IPv6 literals keep their brackets; probe targets name the host without them. */
function hostOf(origin: string): string | undefined {
  try {
    const { hostname } = new URL(origin);
    return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  } catch {
    return undefined;
  }
}

/**
 * The prepare scope of one ai-proxy-multi instance: for an instance with `checks`, every dispatcher it
 * gets picks, per request, one healthy address of its host from the node's health (§2.10) and connects
 * there with the host name as `Host` and TLS server name; dispatchers for other hosts (a token endpoint)
 * keep connecting by name. Any other instance gets `scope` itself.
 *
 * @example prepareInstance(instance, conf, scopeWithHealthyTargets(scope, instance, { health, random }), providerAuth);
 */
export function scopeWithHealthyTargets(
  scope: PrepareScope,
  instance: { readonly name: string; readonly checks?: { readonly active?: unknown } | undefined },
  deps: { readonly health?: InstanceHealthBoard | undefined; readonly random: () => number },
): PrepareScope {
  const board = deps.health;
  if (board === undefined || instance.checks?.active === undefined) return scope;
  const key = instanceHealthKey(scope.holderKey, instance.name);
  const registry = scope.dispatchers;
  return {
    ...scope,
    dispatchers: {
      get(origin, options) {
        const host = hostOf(origin);
        if (host === undefined) return registry.get(origin, options);
        return createAddressRoutingDispatcher(registry, origin, options, () =>
          chooseTargetAddress(board.targetsOf(key), host, deps.random),
        );
      },
    },
  };
}
