import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';

/** STUB (helper ai-proxy-multi replaces it): one pooled keep-alive undici dispatcher per origin + options. */
export function createDispatcherRegistry(): DispatcherRegistry & { close(): Promise<void> } {
  throw new Error('createDispatcherRegistry: not implemented yet');
}
