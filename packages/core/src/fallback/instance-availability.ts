import type { InstanceBalancer, PickGates, PickRequest } from '../balancer/instance-balancer.js';

/**
 * ai-rate-limiting's answer for a picked instance (ai-proxy-multi.md §2.7, §9.1): use it (the request's
 * quota is now reserved on it), skip it (exhausted: the `rate_limiting` strategy picks another one), or
 * stop the request with a response of the gate's own (rejected without that strategy, or the counter
 * store is down).
 */
export type AvailabilityVerdict<Stop> =
  | { readonly kind: 'use' }
  | { readonly kind: 'skip' }
  | { readonly kind: 'stop'; readonly stop: Stop };

/**
 * Asked for every candidate the balancer returns. Asynchronous: the counters may live in another
 * process (the node's primary) or in Redis.
 */
export type InstanceAvailability<Stop> = (name: string) => Promise<AvailabilityVerdict<Stop>>;

export type AvailablePick<Stop> =
  | { readonly kind: 'picked'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'stopped'; readonly stop: Stop };

/**
 * The pick loop of §2.7 with the rate-limit exclusion: ask the balancer (health, tried set), then the
 * availability gate; a skipped instance is marked tried (with the §8.3 warn line) and the next one is
 * asked for. Each skip adds one name to `tried`, so this ends after at most one pass over the instances.
 *
 * @example
 *   const pick = await pickAvailable(balancer, { tried }, gates, (name) => quota.admit(name));
 *   if (pick.kind === 'none') answer503();
 */
export async function pickAvailable<Stop>(
  balancer: InstanceBalancer,
  request: PickRequest,
  gates: PickGates,
  availability: InstanceAvailability<Stop>,
): Promise<AvailablePick<Stop>> {
  for (;;) {
    const name = balancer.pick(request, gates);
    if (name === undefined) return { kind: 'none' };
    const verdict = await availability(name);
    if (verdict.kind === 'use') return { kind: 'picked', name };
    if (verdict.kind === 'stop') return { kind: 'stopped', stop: verdict.stop };
    gates.onSkip?.(name, 'unavailable');
    request.tried.add(name);
  }
}
