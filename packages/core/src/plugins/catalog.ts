import type { PluginDescriptor } from './descriptor.js';

/** STUB (helper core-schemas fills it): every plugin this build ships, sorted by priority descending. */
export const PLUGIN_CATALOG: readonly PluginDescriptor[] = [];

export function findPlugin(name: string): PluginDescriptor | undefined {
  return PLUGIN_CATALOG.find((plugin) => plugin.name === name);
}
