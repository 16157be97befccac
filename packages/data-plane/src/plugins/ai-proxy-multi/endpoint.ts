import type { ProtocolId } from './protocols/protocol.js';
import type { ProviderDescriptor } from './providers/provider.js';

/** Where one instance sends one protocol: resolved once per config change, never per request. */
export type UpstreamLocation =
  | { readonly ok: true; readonly origin: string; readonly pathAndQuery: string }
  | { readonly ok: false; readonly reason: string };

interface EndpointParts {
  readonly origin: string;
  /** The raw path, or undefined when the endpoint is only scheme://host[:port]. */
  readonly path: string | undefined;
  readonly query: URLSearchParams;
}

// scheme://authority, then the raw path, `;params` (stripped, §4.2) and the query; a fragment is ignored.
const ENDPOINT_PATTERN = /^(https?):\/\/([^/?#;]+)([^?#;]*)(?:;[^?#]*)?(?:\?([^#]*))?/i;

function parseEndpoint(endpoint: string): EndpointParts | undefined {
  const match = ENDPOINT_PATTERN.exec(endpoint);
  if (match === null) return undefined;
  const [, scheme = '', authority = '', path = '', query = ''] = match;
  try {
    // URL normalises the host and drops the scheme's default port; the path stays exactly as written,
    // because reserved characters in it are pre-encoded by the user (§1.7).
    const { origin } = new URL(`${scheme.toLowerCase()}://${authority}`);
    return { origin, path: path === '' ? undefined : path, query: new URLSearchParams(query) };
  } catch {
    return undefined;
  }
}

/** `auth.query`, then the endpoint's query on top: the endpoint wins on a shared key (§4.2). */
function mergeQuery(
  authQuery: Readonly<Record<string, string>> | undefined,
  endpointQuery: URLSearchParams | undefined,
): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(authQuery ?? {})) query.set(name, value);
  if (endpointQuery !== undefined) {
    for (const name of new Set(endpointQuery.keys())) query.delete(name);
    for (const [name, value] of endpointQuery) query.append(name, value);
  }
  const serialized = query.toString();
  return serialized === '' ? '' : `?${serialized}`;
}

/**
 * URL resolution (ai-proxy-multi.md §4.2): `override.endpoint` supplies scheme/host/port and, when it has
 * any path (even `/`), the path for every protocol; otherwise the provider's default host (https) and its
 * default path for the protocol. The query is `auth.query` plus the endpoint's query.
 *
 * @example
 *   resolveUpstreamLocation({ provider: openAiProvider, protocol: 'openai-chat', endpoint: 'http://127.0.0.1:8080?v=1', authQuery: { key: 'k' } });
 *   // { ok: true, origin: 'http://127.0.0.1:8080', pathAndQuery: '/v1/chat/completions?key=k&v=1' }
 */
export function resolveUpstreamLocation(args: {
  readonly provider: ProviderDescriptor;
  readonly protocol: ProtocolId;
  readonly endpoint: string | undefined;
  readonly authQuery: Readonly<Record<string, string>> | undefined;
}): UpstreamLocation {
  const { provider, protocol, endpoint, authQuery } = args;
  let parts: EndpointParts | undefined;
  if (endpoint !== undefined) {
    parts = parseEndpoint(endpoint);
    if (parts === undefined) return { ok: false, reason: 'invalid endpoint' };
  }
  const origin = parts?.origin ?? (provider.defaultHost === undefined ? undefined : `https://${provider.defaultHost}`);
  if (origin === undefined)
    return { ok: false, reason: `provider ${provider.id} has no default host; set override.endpoint` };
  const path = parts?.path ?? provider.paths[protocol];
  if (path === undefined) return { ok: false, reason: `provider ${provider.id} has no path for ${protocol}` };
  return { ok: true, origin, pathAndQuery: `${path}${mergeQuery(authQuery, parts?.query)}` };
}
