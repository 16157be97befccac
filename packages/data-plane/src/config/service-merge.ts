import type { PluginConfEntry } from '../plugins/plugin-chain.js';
import type { CollectedItem } from './resource-collections.js';
import type { RouteView, ServiceView, TimeoutView, UpstreamView } from './resource-shapes.js';

/** Where a route's upstream comes from after the service merge. */
export type UpstreamSource =
  | { readonly kind: 'inline'; readonly upstream: UpstreamView; readonly holderKey: string }
  | { readonly kind: 'reference'; readonly id: string; readonly key: string }
  | { readonly kind: 'none' };

/** A route with its service merged in (admin-api.md §4), as the router and pipeline use it. */
export interface EffectiveRoute {
  readonly key: string;
  readonly id: string;
  readonly modRevision: number;
  readonly order: number;
  readonly uris: readonly string[];
  /** Lowercased (admin-api.md §6.1); undefined = any host. */
  readonly hosts: readonly string[] | undefined;
  readonly priority: number;
  readonly methods: readonly string[] | undefined;
  readonly remoteAddrs: readonly string[] | undefined;
  readonly vars: readonly unknown[] | undefined;
  /** Service plugins overridden by name by the route's own. */
  readonly plugins: readonly PluginConfEntry[];
  readonly upstream: UpstreamSource;
  readonly timeout: TimeoutView | undefined;
  readonly service: { readonly key: string; readonly modRevision: number } | undefined;
  /** `service_id` names a service that is not loaded: matching answers 404 (§4). */
  readonly serviceMissing: boolean;
}

/**
 * Merges a route with its service (admin-api.md §4): route plugins replace service plugins of the same
 * name, the route's upstream (inline or by id) wins, and the service's hosts apply when the route has
 * none. Undefined for a disabled route (`status: 0`, §6.1).
 *
 * @example mergeRouteWithService(route, services, '/apisix')
 */
export function mergeRouteWithService(
  item: CollectedItem,
  services: ReadonlyMap<string, CollectedItem>,
  prefix: string,
): EffectiveRoute | undefined {
  const route = item.value as RouteView;
  if (route.status === 0) return undefined;
  const serviceKey = route.service_id === undefined ? undefined : `${prefix}/services/${route.service_id}`;
  const serviceItem = serviceKey === undefined ? undefined : services.get(serviceKey);
  const service = serviceItem?.value as ServiceView | undefined;

  // checkResource has checked every plugin conf against its own schema, so each is an object.
  const plugins = new Map<string, PluginConfEntry>();
  if (serviceItem !== undefined) {
    for (const [name, conf] of Object.entries(service?.plugins ?? {}))
      plugins.set(name, { name, conf: conf as PluginConfEntry['conf'], holderKey: serviceItem.key });
  }
  for (const [name, conf] of Object.entries(route.plugins ?? {}))
    plugins.set(name, { name, conf: conf as PluginConfEntry['conf'], holderKey: item.key });

  const routeHosts = route.hosts ?? (route.host === undefined ? undefined : [route.host]);
  const hosts = routeHosts ?? service?.hosts;

  return {
    key: item.key,
    id: String(route.id ?? item.resource.id),
    modRevision: item.modRevision,
    order: item.order,
    uris: route.uris ?? (route.uri === undefined ? [] : [route.uri]),
    hosts: hosts?.map((host) => host.toLowerCase()),
    priority: route.priority ?? 0,
    methods: route.methods,
    remoteAddrs: route.remote_addrs ?? (route.remote_addr === undefined ? undefined : [route.remote_addr]),
    vars: route.vars,
    plugins: [...plugins.values()],
    upstream: upstreamSource(route, item.key, service, serviceItem?.key, prefix),
    timeout: route.timeout,
    service: serviceItem === undefined ? undefined : { key: serviceItem.key, modRevision: serviceItem.modRevision },
    serviceMissing: serviceKey !== undefined && serviceItem === undefined,
  };
}

function upstreamSource(
  route: RouteView,
  routeKey: string,
  service: ServiceView | undefined,
  serviceKey: string | undefined,
  prefix: string,
): UpstreamSource {
  if (route.upstream !== undefined) return { kind: 'inline', upstream: route.upstream, holderKey: routeKey };
  if (route.upstream_id !== undefined) return reference(route.upstream_id, prefix);
  if (service?.upstream !== undefined && serviceKey !== undefined)
    return { kind: 'inline', upstream: service.upstream, holderKey: serviceKey };
  if (service?.upstream_id !== undefined) return reference(service.upstream_id, prefix);
  return { kind: 'none' };
}

function reference(id: string | number, prefix: string): UpstreamSource {
  return { kind: 'reference', id: String(id), key: `${prefix}/upstreams/${id}` };
}
