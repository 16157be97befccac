import { createUriRouter, type UriEntry, type UriRouter } from './uri-router.js';
import type { CandidateVerdict, NEEDS_BODY } from './verdict.js';

/** A route as the router sees it: its paths, hosts and ordering; filters live behind `test`. */
export interface RouterRoute<T> {
  readonly uris: readonly string[];
  /** Lowercased; undefined or empty = no host restriction. */
  readonly hosts: readonly string[] | undefined;
  readonly priority: number;
  readonly order: number;
  readonly target: T;
}

export interface RequestHost {
  /** `$host`: the Host header lowercased without its port. */
  readonly host: string;
  /** The whole Host header lowercased, compared with route hosts that carry a port. */
  readonly hostHeader: string;
}

export interface HostUriRouter<T> {
  match(path: string, host: RequestHost, test: (target: T) => CandidateVerdict): T | typeof NEEDS_BODY | undefined;
}

interface WildcardHost<T> {
  /** `.foo.com` for `*.foo.com`, '' for `*`. */
  readonly suffix: string;
  readonly withPort: boolean;
  readonly router: UriRouter<T>;
}

/**
 * `radixtree_host_uri` (admin-api.md §6.1–§6.2): routes with hosts are tried first, exact hosts before
 * wildcards and longer wildcard suffixes before shorter ones, falling through to the next host when no
 * route of a host passes; then the routes without hosts. Built once per config change.
 *
 * @example compileHostUriRouter(routes).match('/v1/chat', { host: 'a.example.com', hostHeader: 'a.example.com:9080' }, test)
 */
export function compileHostUriRouter<T>(routes: readonly RouterRoute<T>[]): HostUriRouter<T> {
  const byHost = new Map<string, UriEntry<T>[]>();
  const hostless: UriEntry<T>[] = [];
  for (const route of routes) {
    const entries = route.uris.map((uri) => ({
      uri,
      priority: route.priority,
      order: route.order,
      target: route.target,
    }));
    if (route.hosts === undefined || route.hosts.length === 0) {
      hostless.push(...entries);
      continue;
    }
    for (const host of new Set(route.hosts)) byHost.set(host, [...(byHost.get(host) ?? []), ...entries]);
  }
  const exactHosts = new Map<string, UriRouter<T>>();
  const wildcards: WildcardHost<T>[] = [];
  for (const [host, entries] of byHost) {
    const router = createUriRouter(entries);
    if (host.startsWith('*')) wildcards.push({ suffix: host.slice(1), withPort: host.includes(':'), router });
    else exactHosts.set(host, router);
  }
  wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  const hostlessRouter = createUriRouter(hostless);
  const hasHostPorts = [...exactHosts.keys()].some((host) => host.includes(':'));

  return {
    match(path, request, test) {
      const exact = exactHosts.get(request.host) ?? (hasHostPorts ? exactHosts.get(request.hostHeader) : undefined);
      if (exact !== undefined) {
        const found = exact.match(path, test);
        if (found !== undefined) return found;
      }
      for (const wildcard of wildcards) {
        const host = wildcard.withPort ? request.hostHeader : request.host;
        if (!host.endsWith(wildcard.suffix)) continue;
        const found = wildcard.router.match(path, test);
        if (found !== undefined) return found;
      }
      return hostlessRouter.match(path, test);
    },
  };
}
