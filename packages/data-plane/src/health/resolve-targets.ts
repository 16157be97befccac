import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { HealthCheckTimers } from '@switchboard/core';

/** Every address a host name resolves to (A and AAAA). Injected so tests map names to loopback addresses. */
export type HostLookup = (host: string) => Promise<readonly string[]>;

/** The system resolver, as connections use it: hosts file first, then DNS (ai-proxy-multi.md §2.10). */
export const systemHostLookup: HostLookup = async (host) =>
  (await lookup(host, { all: true })).map((entry) => entry.address);

/**
 * How often checked hosts are resolved again. `dns.lookup` reports no TTL, so a fixed interval: a moved
 * address is probed (and receives traffic) at most this long after DNS changed.
 */
export const HOST_RESOLVE_INTERVAL_MS = 30_000;

export interface HostResolverOptions {
  readonly lookup: HostLookup;
  readonly timers: HealthCheckTimers;
  readonly intervalMs: number;
  /** Called when a host's addresses changed (first answer included). */
  readonly onChange: () => void;
  /** A lookup failed; the host keeps its last addresses. */
  readonly onError: (host: string, error: unknown) => void;
}

export interface HostResolver {
  /** Resolves these hosts from now on, each right away and then every interval; forgets the others. */
  watch(hosts: ReadonlySet<string>): void;
  /**
   * The host's addresses, sorted; undefined until its first lookup settled. An IP literal is its own
   * address. A host whose lookups have all failed is `[host]`: probed by name, as without resolution.
   */
  addressesOf(host: string): readonly string[] | undefined;
  close(): void;
}

interface WatchedHost {
  addresses: readonly string[] | undefined;
  timer: unknown;
  stopped: boolean;
}

/**
 * Resolves the hosts of checked instances to all their addresses (ai-proxy-multi.md §2.10), once per
 * host however many instances use it, again every `intervalMs`. Answers are sorted and de-duplicated,
 * so the same answer in another order is no change.
 *
 * @example
 *   const resolver = createHostResolver({ lookup: systemHostLookup, timers, intervalMs: HOST_RESOLVE_INTERVAL_MS, onChange, onError });
 *   resolver.watch(new Set(['api.openai.com']));
 *   resolver.addressesOf('api.openai.com'); // undefined, then ['162.159.140.245', …]
 */
export function createHostResolver(options: HostResolverOptions): HostResolver {
  const watched = new Map<string, WatchedHost>();

  async function resolve(host: string, entry: WatchedHost): Promise<void> {
    entry.timer = undefined;
    let next: readonly string[] | undefined;
    try {
      const answer = [...new Set(await options.lookup(host))].sort();
      if (answer.length > 0) next = answer;
      else options.onError(host, new Error('no addresses'));
    } catch (error) {
      options.onError(host, error);
    }
    if (entry.stopped) return;
    next ??= entry.addresses ?? [host];
    const changed = entry.addresses?.join(' ') !== next.join(' ');
    entry.addresses = next;
    entry.timer = options.timers.setTimeout(() => void resolve(host, entry), options.intervalMs);
    if (changed) options.onChange();
  }

  function stop(entry: WatchedHost): void {
    entry.stopped = true;
    if (entry.timer !== undefined) options.timers.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  return {
    watch(hosts) {
      for (const [host, entry] of watched) {
        if (hosts.has(host)) continue;
        stop(entry);
        watched.delete(host);
      }
      for (const host of hosts) {
        if (watched.has(host) || isIP(host) !== 0) continue;
        const entry: WatchedHost = { addresses: undefined, timer: undefined, stopped: false };
        watched.set(host, entry);
        void resolve(host, entry);
      }
    },
    addressesOf(host) {
      if (isIP(host) !== 0) return [host];
      return watched.get(host)?.addresses;
    },
    close() {
      for (const entry of watched.values()) stop(entry);
      watched.clear();
    },
  };
}
