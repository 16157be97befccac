import { findPlugin, MemoryQuotaCounters } from '@switchboard/core';
import type { InstanceHealthBoard } from '../health/health-board.js';
import { createAiProxyPlugin } from './ai-proxy/plugin.js';
import type { ProviderEnv } from './ai-proxy-multi/auth/provider-auth-runtime.js';
import { createAiProxyMultiPlugin } from './ai-proxy-multi/plugin.js';
import { createAiRateLimitingPlugin } from './ai-rate-limiting/plugin.js';
import type { QuotaStores } from './ai-rate-limiting/prepare.js';
import { keyAuthPlugin } from './key-auth.js';
import type { RuntimePlugin } from './runtime-plugin.js';

/** A runtime plugin with the order and type core's catalog gives it (admin-api.md §6.7). */
export interface RegisteredPlugin {
  readonly runtime: RuntimePlugin;
  readonly priority: number;
  readonly type: 'auth' | 'other';
}

/** name → plugin, for every plugin this data plane can run. */
export type RuntimePluginRegistry = ReadonlyMap<string, RegisteredPlugin>;

export interface RuntimePluginDeps {
  readonly random: () => number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** The node's instance health (ai-proxy-multi.md §7); everything healthy when absent. */
  readonly health?: InstanceHealthBoard;
  /** Environment values LLM providers read (`GCP_SERVICE_ACCOUNT`), handed down from the CLI. */
  readonly providerEnv?: ProviderEnv;
  /**
   * ai-rate-limiting's counters: `local` shared per node (over IPC from the primary in cluster mode),
   * `remote` for the Redis policies. Default: in-process counters and no Redis.
   */
  readonly quotaStores?: QuotaStores;
}

/**
 * The plugins this data plane runs. Priorities and types come from core's catalog, so the Admin API
 * and the data plane can never disagree on order; a runtime plugin the catalog lacks is left out.
 *
 * @example createRuntimePluginRegistry({ random: Math.random, now: () => performance.now() }).get('key-auth')
 */
export function createRuntimePluginRegistry(
  deps: RuntimePluginDeps,
  plugins: readonly RuntimePlugin[] = [
    keyAuthPlugin,
    createAiProxyMultiPlugin(deps) as RuntimePlugin,
    createAiProxyPlugin(deps) as RuntimePlugin,
    createAiRateLimitingPlugin(deps.quotaStores ?? { local: new MemoryQuotaCounters(Date.now) }) as RuntimePlugin,
  ],
): RuntimePluginRegistry {
  const registry = new Map<string, RegisteredPlugin>();
  for (const runtime of plugins) {
    const descriptor = findPlugin(runtime.name);
    if (descriptor === undefined) continue;
    registry.set(runtime.name, { runtime, priority: descriptor.priority, type: descriptor.type });
  }
  return registry;
}
