import { compileVarsExpression, type VarsContext } from '@switchboard/core';
import type { Logger } from 'pino';
import type { RuntimePluginRegistry } from './registry.js';
import type { PrepareScope, RuntimePlugin } from './runtime-plugin.js';

/** One `name → conf` of a route, service or consumer, with the key of the resource holding it. */
export interface PluginConfEntry {
  readonly name: string;
  readonly conf: Readonly<Record<string, unknown>>;
  readonly holderKey: string;
}

/** A plugin ready to run: prepared once per config change, never per request. */
export interface ChainPlugin {
  readonly name: string;
  readonly runtime: RuntimePlugin;
  readonly type: 'auth' | 'other';
  /** `_meta.priority`, else the catalog priority (admin-api.md §6.7). */
  readonly priority: number;
  readonly prepared: unknown;
  readonly holderKey: string;
  /** `_meta.filter`: the plugin runs only for requests it matches. */
  readonly filter: ((vars: VarsContext) => boolean) | undefined;
  /** `_meta.error_response`: replaces the body of a response of status ≥ 400 this plugin ends with. */
  readonly errorResponse: unknown;
}

export interface PluginChain {
  /** Sorted by effective priority, descending; `_meta.disable` plugins are left out. */
  readonly plugins: readonly ChainPlugin[];
  /** A plugin whose prepare threw: the route fails closed instead of running without it. */
  readonly failedPlugin: string | undefined;
}

export interface PrepareChainOptions {
  readonly registry: RuntimePluginRegistry;
  readonly scopeFor: (holderKey: string) => PrepareScope;
  readonly logger: Logger;
}

/**
 * Prepares the plugins of one resource. A plugin the data plane cannot run is skipped with a warning,
 * like an unknown plugin (admin-api.md §5.6); a prepare that throws fails the whole chain closed.
 *
 * @example preparePluginChain([{ name: 'key-auth', conf: {}, holderKey: '/apisix/routes/1' }], options)
 */
export function preparePluginChain(entries: readonly PluginConfEntry[], options: PrepareChainOptions): PluginChain {
  const plugins: ChainPlugin[] = [];
  for (const entry of entries) {
    const meta = readMeta(entry.conf);
    if (meta.disable === true) continue;
    const registered = options.registry.get(entry.name);
    if (registered === undefined) {
      options.logger.warn(
        { key: entry.holderKey, plugin: entry.name },
        'plugin not available on this data plane; skipped',
      );
      continue;
    }
    let prepared: unknown;
    try {
      prepared = registered.runtime.prepare(entry.conf, options.scopeFor(entry.holderKey));
    } catch (error) {
      options.logger.error(
        { key: entry.holderKey, plugin: entry.name, err: error },
        'plugin failed to prepare; its route answers 500',
      );
      disposeChainPlugins(plugins, options.logger);
      return { plugins: [], failedPlugin: entry.name };
    }
    plugins.push({
      name: entry.name,
      runtime: registered.runtime,
      type: registered.type,
      priority: typeof meta.priority === 'number' ? meta.priority : registered.priority,
      prepared,
      holderKey: entry.holderKey,
      filter: compileFilter(meta.filter, entry, options.logger),
      errorResponse: meta.error_response,
    });
  }
  return { plugins: sortByPriority(plugins), failedPlugin: undefined };
}

/** Priority descending; ties by name so the order never depends on JSON key order. */
export function sortByPriority(plugins: readonly ChainPlugin[]): ChainPlugin[] {
  return [...plugins].sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function disposeChainPlugins(plugins: readonly ChainPlugin[], logger: Logger): void {
  for (const plugin of plugins) {
    try {
      plugin.runtime.dispose?.(plugin.prepared);
    } catch (error) {
      logger.error({ key: plugin.holderKey, plugin: plugin.name, err: error }, 'plugin dispose failed');
    }
  }
}

interface PluginMeta {
  readonly disable?: unknown;
  readonly priority?: unknown;
  readonly filter?: unknown;
  readonly error_response?: unknown;
}

function readMeta(conf: Readonly<Record<string, unknown>>): PluginMeta {
  const meta = conf._meta;
  return typeof meta === 'object' && meta !== null ? (meta as PluginMeta) : {};
}

function compileFilter(
  rule: unknown,
  entry: PluginConfEntry,
  logger: Logger,
): ((vars: VarsContext) => boolean) | undefined {
  if (!Array.isArray(rule) || rule.length === 0) return undefined;
  const compiled = compileVarsExpression(rule);
  if (!compiled.ok) {
    // checkResource refuses these; if one slips through, never run the plugin on a rule we cannot read.
    logger.error(
      { key: entry.holderKey, plugin: entry.name, reason: compiled.message },
      'invalid _meta.filter; plugin never runs',
    );
    return () => false;
  }
  return (vars) => {
    try {
      return compiled.evaluate(vars);
    } catch (error) {
      logger.warn({ key: entry.holderKey, plugin: entry.name, err: error }, '_meta.filter failed; plugin skipped');
      return false;
    }
  };
}
