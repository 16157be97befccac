import { crc32 } from 'node:zlib';
import type { Picker, PickerInstance } from './picker.js';

/** Virtual points per unit of (weight / gcd), as lua-resty-chash places them (ai-proxy-multi.md §2.5). */
const POINTS_PER_WEIGHT_UNIT = 160;

interface RingPoint {
  readonly hash: number;
  readonly name: string;
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

/**
 * Weights as the ring uses them. Zero weights next to positive ones get no points (never picked, like
 * round robin); when no weight is positive every instance counts as weight 1 — APISIX builds an empty
 * ring there, which fails every request (DECISIONS: zero weights are handled cleanly).
 */
function ringWeights(instances: readonly PickerInstance[]): Map<string, number> {
  const positive = instances.some((instance) => instance.weight > 0);
  const weights = new Map<string, number>();
  for (const instance of instances) weights.set(instance.name, positive ? Math.max(0, instance.weight) : 1);
  return weights;
}

function buildRing(instances: readonly PickerInstance[]): RingPoint[] {
  const weights = ringWeights(instances);
  const gcd = [...weights.values()].reduce(greatestCommonDivisor, 0) || 1;
  const points: RingPoint[] = [];
  for (const [name, weight] of weights) {
    const count = (weight / gcd) * POINTS_PER_WEIGHT_UNIT;
    for (let index = 0; index < count; index += 1) points.push({ hash: crc32(`${name}#${index}`), name });
  }
  // Ties are broken by name so the ring never depends on configuration order.
  return points.sort((left, right) => left.hash - right.hash || (left.name < right.name ? -1 : 1));
}

/** Index of the first point at or after `hash`, wrapping to 0 past the end. */
function firstPointAtOrAfter(ring: readonly RingPoint[], hash: number): number {
  let low = 0;
  let high = ring.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ring[middle] as RingPoint).hash < hash) low = middle + 1;
    else high = middle;
  }
  return low === ring.length ? 0 : low;
}

/**
 * Consistent hashing (ai-proxy-multi.md §2.5): every instance gets `weight / gcd × 160` points on a
 * CRC32 ring; a request goes to the owner of the first point at or after CRC32 of its key
 * (`context.hashKey`, '' when absent). A retry walks on clockwise and takes the first instance not in
 * `context.tried`; undefined once every ring member was tried.
 *
 * The ring is built from every instance, healthy or not, and never rebuilt on a health change: the pick
 * loop skips an unhealthy pick by marking it tried, so only the keys of that instance move (to the next
 * instance on the ring) and every other key keeps its instance (§2.5 stability guarantee).
 *
 * @example
 *   const picker = createConsistentHashPicker([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }]);
 *   picker.pick({ tried: new Set(), hashKey: 'session-42' }); // the same name for every request of session-42
 */
export function createConsistentHashPicker(instances: readonly PickerInstance[]): Picker {
  const ring = buildRing(instances);
  return {
    pick(context) {
      if (ring.length === 0) return undefined;
      const start = firstPointAtOrAfter(ring, crc32(context.hashKey ?? ''));
      for (let step = 0; step < ring.length; step += 1) {
        const point = ring[(start + step) % ring.length] as RingPoint;
        if (!context.tried.has(point.name)) return point.name;
      }
      return undefined;
    },
  };
}
