import { createWeightedRoundRobinPicker, type Picker } from '@switchboard/core';
import type { TimeoutView, UpstreamNodesView, UpstreamView } from '../config/resource-shapes.js';
import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';

export interface UpstreamNode {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, the dispatcher key. */
  readonly origin: string;
  /** `host:port` as the Host header for `pass_host: node`. */
  readonly hostHeader: string;
}

/** A route's upstream compiled once per config change: nodes, picker and connection settings. */
export interface UpstreamTarget {
  /** Weighted round robin over the nodes with a positive weight; undefined when none has one. */
  pickNode(): UpstreamNode | undefined;
  /** The Host header to send: the client's (`pass`), the node's (`node`) or `upstream_host` (`rewrite`). */
  hostFor(node: UpstreamNode, clientHost: string | undefined): string | undefined;
  readonly readTimeoutMs: number;
  readonly dispatcherOptions: Parameters<DispatcherRegistry['get']>[1];
}

export type CompileUpstreamResult =
  | { readonly ok: true; readonly target: UpstreamTarget }
  | { readonly ok: false; readonly message: string };

/** APISIX's proxy timeouts and keepalive pool defaults (seconds; admin-api.md §4). */
const UPSTREAM_DEFAULTS = { timeoutSeconds: 60, keepaliveIdleSeconds: 60 } as const;

/**
 * The minimal upstream support for plain proxy routes (admin-api.md §4 "essential (minimal)"):
 * inline or referenced `nodes`, `roundrobin` by weight, http/https, `pass_host`, timeouts and
 * the keepalive pool. Other balancer types, discovery and health checks are refused here.
 *
 * @example compileUpstreamTarget({ nodes: { '127.0.0.1:8080': 1 } }, undefined, { random: Math.random })
 */
export function compileUpstreamTarget(
  upstream: UpstreamView,
  routeTimeout: TimeoutView | undefined,
  options: { readonly random: () => number },
): CompileUpstreamResult {
  const scheme = upstream.scheme ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, message: `unsupported upstream scheme: ${scheme}` };
  const type = upstream.type ?? 'roundrobin';
  if (type !== 'roundrobin') return { ok: false, message: `unsupported upstream type: ${type}` };
  if (upstream.nodes === undefined)
    return { ok: false, message: 'upstream without nodes (service discovery) is not supported' };

  const defaultPort = scheme === 'https' ? 443 : 80;
  const nodes = listNodes(upstream.nodes, defaultPort)
    .filter((node) => node.weight > 0)
    .map(({ host, port, weight }) => {
      const hostPort = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
      return { host, port, weight, origin: `${scheme}://${hostPort}`, hostHeader: hostPort };
    });
  const byName = new Map(nodes.map((node, index) => [String(index), node]));
  const picker: Picker = createWeightedRoundRobinPicker(
    nodes.map((node, index) => ({ name: String(index), weight: node.weight })),
    { random: options.random },
  );
  const noneTried: { readonly tried: ReadonlySet<string> } = { tried: new Set() };
  const timeout = routeTimeout ?? upstream.timeout;
  const readTimeoutMs = secondsToMs(timeout?.read ?? UPSTREAM_DEFAULTS.timeoutSeconds);
  const passHost = upstream.pass_host ?? 'pass';

  return {
    ok: true,
    target: {
      pickNode() {
        if (nodes.length === 0) return undefined;
        const name = picker.pick(noneTried);
        return name === undefined ? undefined : byName.get(name);
      },
      hostFor(node, clientHost) {
        switch (passHost) {
          case 'pass':
            return clientHost;
          case 'node':
            return node.hostHeader;
          case 'rewrite':
            return upstream.upstream_host ?? clientHost;
        }
      },
      readTimeoutMs,
      dispatcherOptions: {
        keepAliveTimeoutMs: secondsToMs(
          upstream.keepalive_pool?.idle_timeout ?? UPSTREAM_DEFAULTS.keepaliveIdleSeconds,
        ),
        timeoutMs: secondsToMs(timeout?.connect ?? UPSTREAM_DEFAULTS.timeoutSeconds),
        rejectUnauthorized: upstream.tls?.verify ?? false,
      },
    },
  };
}

function secondsToMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

function listNodes(nodes: UpstreamNodesView, defaultPort: number): { host: string; port: number; weight: number }[] {
  if (Array.isArray(nodes))
    return nodes.map((node) => ({ host: unbracket(node.host), port: node.port ?? defaultPort, weight: node.weight }));
  return Object.entries(nodes as Readonly<Record<string, number>>).map(([address, weight]) => ({
    ...splitHostPort(address, defaultPort),
    weight,
  }));
}

/** `host:port`, `[v6]:port`, or a bare host. */
function splitHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed !== null)
    return { host: bracketed[1] ?? '', port: bracketed[2] === undefined ? defaultPort : Number(bracketed[2]) };
  const colon = address.lastIndexOf(':');
  if (colon === -1 || address.indexOf(':') !== colon) return { host: address, port: defaultPort };
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
