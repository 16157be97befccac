import { BlockList, isIP } from 'node:net';

/** Matches client addresses against a list of IPs and CIDRs, IPv4 and IPv6 mixed. */
export interface IpMatcher {
  /** False for anything that is not an IP address. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) matches IPv4 rules. */
  matches(address: string): boolean;
}

export type IpMatcherResult =
  | { readonly ok: true; readonly matcher: IpMatcher }
  | { readonly ok: false; readonly message: string };

/**
 * Builds a matcher for a route's `remote_addrs` and the `ipmatch` vars operator (admin-api.md §6.3,
 * §6.4). Entries are `a.b.c.d`, `a.b.c.d/n` (n ≤ 32), IPv6, or `IPv6/n` (n ≤ 128); host bits of a
 * CIDR are ignored. An invalid entry fails with `invalid ip address: <entry>`, as lua-resty-ipmatcher.
 *
 * @example
 * const result = createIpMatcher(['10.0.0.0/8', '::1']);
 * if (result.ok) result.matcher.matches('10.1.2.3'); // true
 */
export function createIpMatcher(entries: readonly string[]): IpMatcherResult {
  const list = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const version = isIP(address);
    if (version === 0) return { ok: false, message: `invalid ip address: ${entry}` };
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      list.addAddress(address, family);
      continue;
    }
    const prefixText = entry.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) {
      return { ok: false, message: `invalid ip address: ${entry}` };
    }
    list.addSubnet(address, prefix, family);
  }
  return {
    ok: true,
    matcher: {
      matches(address) {
        const version = isIP(address);
        return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
      },
    },
  };
}
