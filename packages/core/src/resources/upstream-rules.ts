import { isIPv6 } from 'node:net';
import type { Upstream } from '../schema/upstream.js';
import { HASH_KEY_SCHEMAS } from '../schema/upstream.js';
import { describeSchemaError } from '../validation/checker.js';

/**
 * Upstream checks beyond its schema (admin-api.md §2.3 step 4, §4), with APISIX's raw messages:
 * `IPv6 address must be enclosed with '[' and ']'`, `invalid port 99999`,
 * `` `upstream_host` can't be empty when `pass_host` is `rewrite` ``, `missing key`.
 */

/** A node `host` that is a bare IPv6 literal; APISIX wants `[::1]` (checked before the schema). */
export function bareIpv6NodeError(upstream: unknown): string | undefined {
  const nodes = isObject(upstream) ? upstream.nodes : undefined;
  if (!Array.isArray(nodes)) return undefined;
  const bare = nodes.some((node) => isObject(node) && typeof node.host === 'string' && isIPv6(node.host));
  return bare ? "IPv6 address must be enclosed with '[' and ']'" : undefined;
}

/** The data plane brackets bare IPv6 node hosts instead of refusing them (as APISIX does). */
export function bracketBareIpv6Nodes(upstream: Upstream): void {
  if (!Array.isArray(upstream.nodes)) return;
  for (const node of upstream.nodes) {
    if (isIPv6(node.host)) node.host = `[${node.host}]`;
  }
}

/** Runs on the schema-valid, defaulted upstream (so `hash_on` is already `vars` when absent). */
export function upstreamRuleError(upstream: Upstream): string | undefined {
  if (upstream.nodes !== undefined && !Array.isArray(upstream.nodes)) {
    for (const address of Object.keys(upstream.nodes)) {
      const port = portOf(address);
      if (port !== undefined && (port < 1 || port > 65535)) return `invalid port ${port}`;
    }
  }
  if (upstream.pass_host === 'rewrite' && (upstream.upstream_host === undefined || upstream.upstream_host === '')) {
    return "`upstream_host` can't be empty when `pass_host` is `rewrite`";
  }
  if (upstream.type !== 'chash') return undefined;
  const hashOn = upstream.hash_on ?? 'vars';
  if (hashOn === 'consumer') return undefined;
  if (upstream.key === undefined) return 'missing key';
  const keyError = describeSchemaError(HASH_KEY_SCHEMAS[hashOn], upstream.key);
  return keyError === undefined ? undefined : `invalid configuration: ${keyError}`;
}

/** Port of a `nodes` key: `host:port`, `a.b.c.d:port`, `[v6]:port`; a bare IPv6 literal has none. */
function portOf(address: string): number | undefined {
  let portText: string | undefined;
  if (address.startsWith('[')) {
    const close = address.lastIndexOf(']:');
    portText = close === -1 ? undefined : address.slice(close + 2);
  } else {
    let colons = 0;
    for (const char of address) {
      if (char === '.') break;
      if (char === ':' && ++colons === 2) return undefined;
    }
    const colon = address.indexOf(':');
    portText = colon === -1 ? undefined : address.slice(colon + 1);
  }
  return portText !== undefined && /^[0-9]+$/.test(portText) ? Number(portText) : undefined;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
