/** A balancer is a picker (STYLE §3): built once per config change, asked once per attempt. */
export interface PickerInstance {
  readonly name: string;
  readonly weight: number;
}

export interface PickContext {
  /** Names already tried in this request; a retry never re-picks one. */
  readonly tried: ReadonlySet<string>;
}

export interface Picker {
  /** Returns the picked instance name, or undefined when every instance was tried. */
  pick(context: PickContext): string | undefined;
}

/**
 * STUB (helper ai-proxy-multi replaces it): interleaved weighted round robin with GCD stepping
 * (ai-proxy-multi.md §2.3): weights 4:1 give exactly 8/2 over 10 picks.
 * `random` picks the start position, injected so tests are deterministic.
 */
export function createWeightedRoundRobinPicker(
  _instances: readonly PickerInstance[],
  _options: { readonly random: () => number },
): Picker {
  throw new Error('createWeightedRoundRobinPicker: not implemented yet');
}
