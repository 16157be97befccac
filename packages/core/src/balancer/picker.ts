/** A balancer is a picker (STYLE §3): built once per config change, asked once per attempt. */
export interface PickerInstance {
  readonly name: string;
  readonly weight: number;
}

export interface PickContext {
  /** Names already tried in this request; a retry never re-picks one. */
  readonly tried: ReadonlySet<string>;
  /** The request's chash key (ai-proxy-multi.md §2.5); pickers that do not hash ignore it. */
  readonly hashKey?: string | undefined;
}

export interface Picker {
  /** Returns the picked instance name, or undefined when every instance was tried. */
  pick(context: PickContext): string | undefined;
}

function greatestCommonDivisor(a: number, b: number): number {
  // gcd(x, 0) = x, so an all-zero group yields 0 and the threshold loop below degrades to plain RR.
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

/**
 * Interleaved (LVS-style) weighted round robin with GCD stepping (ai-proxy-multi.md §2.3), not smooth
 * WRR: weights 4:1 give exactly 8/2 over any 10 consecutive picks. The round-robin position is shared
 * by every request of the route; `random` only chooses where it starts, so a fresh picker (config or
 * health change) does not always hit the first instance.
 *
 * Weight rules: a single instance is always picked whatever its weight; all weights 0 → plain round
 * robin; zero weights next to positive ones → the zero-weight instances are never picked
 * (DECISIONS: skipped cleanly, never returned as a last resort). A name in `context.tried` is never
 * returned (DECISIONS fix of APISIX's quirk Q3); when nothing pickable is left the result is undefined.
 *
 * @example
 *   const picker = createWeightedRoundRobinPicker([{ name: 'a', weight: 4 }, { name: 'b', weight: 1 }], { random: Math.random });
 *   picker.pick({ tried: new Set() }); // 'a' four times out of five
 */
export function createWeightedRoundRobinPicker(
  instances: readonly PickerInstance[],
  options: { readonly random: () => number },
): Picker {
  const nodes = instances.map((instance) => ({ name: instance.name, weight: Math.max(0, instance.weight) }));
  const maxWeight = nodes.reduce((max, node) => Math.max(max, node.weight), 0);
  const gcd = nodes.reduce((acc, node) => greatestCommonDivisor(acc, node.weight), 0);
  // Instances the threshold loop can ever reach: with one instance or all-zero weights, every one.
  const pickable = new Set(
    nodes.filter((node) => nodes.length === 1 || maxWeight === 0 || node.weight > 0).map((node) => node.name),
  );
  // Σ(weight+1) covers a whole interleaving cycle, so every pickable instance shows up within it.
  const findBudget = nodes.reduce((sum, node) => sum + node.weight + 1, 0);

  let threshold = maxWeight;
  let last = nodes.length === 0 ? -1 : Math.min(nodes.length - 1, Math.floor(options.random() * nodes.length));

  function findNext(): string {
    if (nodes.length === 1) return (nodes[0] as { name: string }).name;
    for (;;) {
      for (let index = last + 1; index < nodes.length; index += 1) {
        const node = nodes[index] as { name: string; weight: number };
        if (node.weight >= threshold) {
          last = index;
          return node.name;
        }
      }
      last = -1;
      threshold -= gcd;
      if (threshold <= 0) threshold = maxWeight;
    }
  }

  return {
    pick(context) {
      let untried = 0;
      for (const name of pickable) if (!context.tried.has(name)) untried += 1;
      if (untried === 0) return undefined;
      for (let attempt = 0; attempt < findBudget; attempt += 1) {
        const name = findNext();
        if (!context.tried.has(name)) return name;
      }
      return undefined;
    },
  };
}

export interface PrioritizedInstance extends PickerInstance {
  /** Higher is preferred (ai-proxy-multi.md §1.4, default 0). */
  readonly priority: number;
}

/**
 * Priority tiers composed over one picker per tier (ai-proxy-multi.md §2.2): a lower tier is asked only
 * when every instance of the higher ones is in `tried`, so higher tiers are never revisited within a
 * request. `createTierPicker` builds the picker of one tier (weighted round robin or chash).
 *
 * @example
 *   const picker = createPriorityPicker(instances, (tier) => createWeightedRoundRobinPicker(tier, { random }));
 *   picker.pick({ tried: new Set(['primary']) }); // an instance of the next tier down
 */
export function createPriorityPicker(
  instances: readonly PrioritizedInstance[],
  createTierPicker: (tier: readonly PickerInstance[]) => Picker,
): Picker {
  const tiers = new Map<number, PickerInstance[]>();
  for (const instance of instances) {
    const tier = tiers.get(instance.priority) ?? [];
    tier.push({ name: instance.name, weight: instance.weight });
    tiers.set(instance.priority, tier);
  }
  const pickers = [...tiers.entries()]
    .sort(([left], [right]) => right - left)
    .map(([, tier]) => createTierPicker(tier));
  if (pickers.length === 1) return pickers[0] as Picker;

  return {
    pick(context) {
      for (const picker of pickers) {
        const name = picker.pick(context);
        if (name !== undefined) return name;
      }
      return undefined;
    },
  };
}
