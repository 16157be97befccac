import { findPlugin } from '@switchboard/core';
import type { Logger } from 'pino';
import {
  type ChainPlugin,
  disposeChainPlugins,
  type PluginChain,
  preparePluginChain,
  sortByPriority,
} from '../plugins/plugin-chain.js';
import type { RuntimePluginRegistry } from '../plugins/registry.js';
import type {
  AttachedConsumer,
  ConsumerDirectory,
  DispatcherRegistry,
  PrepareScope,
} from '../plugins/runtime-plugin.js';
import { compileHostUriRouter, type RouterRoute } from '../router/host-uri-router.js';
import { compileRouteFilters } from '../router/route-filters.js';
import { compileUpstreamTarget } from '../server/upstream-target.js';
import { authAttributes, buildConsumerIndex, type ConsumerIndex } from './consumer-index.js';
import type { CollectionsView } from './resource-collections.js';
import type { UpstreamView } from './resource-shapes.js';
import type { ConsumerMergedChain, RouteFailure, RouteRuntime, RuntimeConfig } from './runtime-config.js';
import { type EffectiveRoute, mergeRouteWithService } from './service-merge.js';

export interface RuntimeBuilderOptions {
  readonly prefix: string;
  readonly registry: RuntimePluginRegistry;
  readonly dispatchers: DispatcherRegistry;
  readonly logger: Logger;
  readonly random: () => number;
}

export interface RuntimeBuilder {
  /** Builds the next config version; prepared plugins of unchanged routes and consumers are reused. */
  build(view: CollectionsView, revision: number): RuntimeConfig;
  /** Disposes every prepared plugin (shutdown). */
  dispose(): void;
}

interface PreparedRouteChain {
  readonly routeModRevision: number;
  readonly serviceModRevision: number | undefined;
  readonly chain: PluginChain;
}

interface PreparedConsumerChain {
  readonly modRevision: number;
  readonly chain: PluginChain;
  /** Every plugin name on the consumer that is not auth: each replaces the route's conf of that name. */
  readonly replaces: ReadonlySet<string>;
}

/**
 * Turns the collections into a RuntimeConfig once per applied batch (admin-api.md §5.3 step 4):
 * the consumer index, prepared plugins per route and per consumer, compiled filters and upstreams,
 * and the router. A route's prepared plugins are reused while its modRevision and its service's are
 * unchanged; dropped ones are disposed.
 *
 * @example const runtime = createRuntimeBuilder(options).build(collections.view(), 42);
 */
export function createRuntimeBuilder(options: RuntimeBuilderOptions): RuntimeBuilder {
  const live = createLiveConsumerDirectory();
  const attributes = authAttributes(options.registry, (name) => findPlugin(name)?.uniqueAttribute);
  let routeChains = new Map<string, PreparedRouteChain>();
  let consumerChains = new Map<string, PreparedConsumerChain>();
  const scopeFor = (holderKey: string): PrepareScope => ({
    holderKey,
    logger: options.logger,
    dispatchers: options.dispatchers,
    consumers: live.directory,
  });
  const prepareOptions = { registry: options.registry, scopeFor, logger: options.logger };

  function consumerChainsFor(index: ConsumerIndex): Map<string, PreparedConsumerChain> {
    const next = new Map<string, PreparedConsumerChain>();
    for (const [key, { item, consumer }] of index.byKey) {
      const previous = consumerChains.get(key);
      if (previous !== undefined && previous.modRevision === item.modRevision) {
        next.set(key, previous);
        continue;
      }
      // Auth plugins on a consumer hold its credentials; they never run from the consumer (§6.6).
      const entries = Object.entries(consumer.plugins)
        .filter(([name]) => options.registry.get(name)?.type !== 'auth' && findPlugin(name)?.type !== 'auth')
        .map(([name, conf]) => ({ name, conf: conf as Readonly<Record<string, unknown>>, holderKey: key }));
      next.set(key, {
        modRevision: item.modRevision,
        chain: preparePluginChain(entries, prepareOptions),
        replaces: new Set(entries.map((entry) => entry.name)),
      });
    }
    return next;
  }

  function routeChainFor(route: EffectiveRoute): PreparedRouteChain {
    const previous = routeChains.get(route.key);
    const serviceModRevision = route.service?.modRevision;
    if (
      previous !== undefined &&
      previous.routeModRevision === route.modRevision &&
      previous.serviceModRevision === serviceModRevision
    ) {
      return previous;
    }
    return {
      routeModRevision: route.modRevision,
      serviceModRevision,
      chain: preparePluginChain(route.plugins, prepareOptions),
    };
  }

  function upstreamFor(route: EffectiveRoute, view: CollectionsView): RouteRuntime['upstream'] {
    let upstream: UpstreamView;
    switch (route.upstream.kind) {
      case 'none':
        return undefined;
      case 'inline':
        upstream = route.upstream.upstream;
        break;
      case 'reference': {
        const item = view.upstreams.get(route.upstream.key);
        if (item === undefined) return { status: 502, message: `failed to find upstream by id: ${route.upstream.id}` };
        upstream = item.value as UpstreamView;
        break;
      }
    }
    const compiled = compileUpstreamTarget(upstream, route.timeout, { random: options.random });
    if (compiled.ok) return compiled.target;
    options.logger.warn({ key: route.key, reason: compiled.message }, 'route upstream cannot be used');
    return { status: 502, message: compiled.message } satisfies RouteFailure;
  }

  return {
    build(view, revision) {
      const index = buildConsumerIndex({
        consumers: view.consumers,
        credentials: view.credentials,
        uniqueAttributes: attributes,
        logger: options.logger,
      });
      live.swap(index);
      const nextConsumerChains = consumerChainsFor(index);

      const nextRouteChains = new Map<string, PreparedRouteChain>();
      const routerRoutes: RouterRoute<RouteRuntime>[] = [];
      for (const item of view.routes.values()) {
        const route = mergeRouteWithService(item, view.services, options.prefix);
        if (route === undefined) continue;
        const filters = compileRouteFilters(
          { methods: route.methods, remoteAddrs: route.remoteAddrs, vars: route.vars },
          { routeKey: route.key, logger: options.logger },
        );
        if (!filters.ok) {
          options.logger.warn({ key: route.key, reason: filters.message }, 'route skipped: its filters do not compile');
          continue;
        }
        const prepared = routeChainFor(route);
        nextRouteChains.set(route.key, prepared);
        const runtime: RouteRuntime = {
          route,
          filter: filters.filter,
          chain: prepared.chain,
          upstream: upstreamFor(route, view),
        };
        routerRoutes.push({
          uris: route.uris,
          hosts: route.hosts,
          priority: route.priority,
          order: route.order,
          target: runtime,
        });
      }

      disposeDropped(routeChains, nextRouteChains, options.logger);
      disposeDropped(consumerChains, nextConsumerChains, options.logger);
      routeChains = nextRouteChains;
      consumerChains = nextConsumerChains;
      return createRuntimeConfig(revision, compileHostUriRouter(routerRoutes), index, nextConsumerChains);
    },

    dispose() {
      for (const prepared of [...routeChains.values(), ...consumerChains.values()])
        disposeChainPlugins(prepared.chain.plugins, options.logger);
      routeChains = new Map();
      consumerChains = new Map();
    },
  };
}

function createRuntimeConfig(
  revision: number,
  router: RuntimeConfig['router'],
  consumers: ConsumerIndex,
  consumerChains: ReadonlyMap<string, PreparedConsumerChain>,
): RuntimeConfig {
  const merged = new Map<RouteRuntime, Map<string, ConsumerMergedChain>>();
  return {
    revision,
    router,
    consumers,
    consumerChain(route, consumer) {
      const perRoute = merged.get(route) ?? new Map<string, ConsumerMergedChain>();
      merged.set(route, perRoute);
      let chain = perRoute.get(consumer.key);
      if (chain === undefined) {
        chain = mergeConsumerChain(route.chain.plugins, consumerChains.get(consumer.key));
        perRoute.set(consumer.key, chain);
      }
      return chain;
    },
  };
}

/** admin-api.md §6.6 step 4.2: consumer confs replace same-named route confs for this request. */
function mergeConsumerChain(
  routePlugins: readonly ChainPlugin[],
  consumer: PreparedConsumerChain | undefined,
): ConsumerMergedChain {
  if (consumer === undefined || consumer.replaces.size === 0)
    return { plugins: routePlugins, rewriteAfterAuth: [], failedPlugin: undefined };
  const ranInRewrite = new Set(routePlugins.map((plugin) => plugin.name));
  const kept = routePlugins.filter((plugin) => !consumer.replaces.has(plugin.name));
  return {
    plugins: sortByPriority([...kept, ...consumer.chain.plugins]),
    rewriteAfterAuth: consumer.chain.plugins.filter(
      (plugin) => plugin.type !== 'auth' && !ranInRewrite.has(plugin.name),
    ),
    failedPlugin: consumer.chain.failedPlugin,
  };
}

function disposeDropped<T extends { readonly chain: PluginChain }>(
  previous: ReadonlyMap<string, T>,
  next: ReadonlyMap<string, T>,
  logger: Logger,
): void {
  for (const [key, prepared] of previous) {
    if (next.get(key) !== prepared) disposeChainPlugins(prepared.chain.plugins, logger);
  }
}

/** The same directory object for every prepared plugin; `swap` points it at the newest index. */
function createLiveConsumerDirectory(): {
  readonly directory: ConsumerDirectory;
  swap(index: ConsumerDirectory): void;
} {
  let current: ConsumerDirectory = { findByCredential: () => undefined, findByUsername: () => undefined };
  return {
    directory: {
      findByCredential: (plugin: string, value: string): AttachedConsumer | undefined =>
        current.findByCredential(plugin, value),
      findByUsername: (username: string): AttachedConsumer | undefined => current.findByUsername(username),
    },
    swap(index) {
      current = index;
    },
  };
}
