import type { AiProviderConf } from '@switchboard/core';
import type { ProtocolId } from './protocols/protocol.js';
import { defaultHostOf, type ProviderDescriptor, type ProviderPathInput } from './providers/provider.js';

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

/** Whether `override.endpoint` has a path of its own (then it is used for every protocol, §4.2). */
function endpointHasPath(endpoint: string | undefined): boolean {
  return endpoint !== undefined && parseEndpoint(endpoint)?.path !== undefined;
}

/**
 * The builder of a default path that depends on the request (bedrock's model, vertex-ai's project and
 * model), when that path is the one used: the endpoint has no path. `resolveUpstreamLocation` leaves such
 * a path out (its `pathAndQuery` is then only the query) and the attempt's finalize step puts the built
 * path in front (auth/finalize-request.ts).
 */
export function requestDependentPath(args: {
  readonly provider: ProviderDescriptor;
  readonly protocol: ProtocolId;
  readonly endpoint: string | undefined;
}): ((input: ProviderPathInput) => string | undefined) | undefined {
  const path = args.provider.paths[args.protocol];
  return typeof path === 'function' && !endpointHasPath(args.endpoint) ? path : undefined;
}

/**
 * URL resolution (ai-proxy-multi.md §4.2): `override.endpoint` supplies scheme/host/port and, when it has
 * any path (even `/`), the path for every protocol; otherwise the provider's default host (https; from
 * `provider_conf.region` for vertex-ai and bedrock) and its default path for the protocol. The query is
 * `auth.query` plus the endpoint's query. A default path that depends on the request is left out here
 * (see `requestDependentPath`).
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
  readonly providerConf?: AiProviderConf | undefined;
}): UpstreamLocation {
  const { provider, protocol, endpoint, authQuery } = args;
  let parts: EndpointParts | undefined;
  if (endpoint !== undefined) {
    parts = parseEndpoint(endpoint);
    if (parts === undefined) return { ok: false, reason: 'invalid endpoint' };
  }
  const defaultHost = defaultHostOf(provider, args.providerConf);
  const origin = parts?.origin ?? (defaultHost === undefined ? undefined : `https://${defaultHost}`);
  if (origin === undefined)
    return { ok: false, reason: `provider ${provider.id} has no default host; set override.endpoint` };
  const defaultPath = provider.paths[protocol];
  if (parts?.path === undefined && defaultPath === undefined)
    return { ok: false, reason: `provider ${provider.id} has no path for ${protocol}` };
  // A request-dependent default path is built per attempt (requestDependentPath).
  const path = parts?.path ?? (typeof defaultPath === 'string' ? defaultPath : '');
  return { ok: true, origin, pathAndQuery: `${path}${mergeQuery(authQuery, parts?.query)}` };
}

/**
 * Where a passthrough request goes (ai-proxy-multi.md §4.2, §5.5): the instance's origin, the
 * endpoint's own path if it has one (else the client's path is used), and the query parts the client's
 * query is merged with per request.
 */
export type PassthroughTarget =
  | {
      readonly ok: true;
      readonly origin: string;
      readonly endpointPath: string | undefined;
      /** `auth.query` with the endpoint's query on top, as for every other protocol. */
      readonly baseQuery: URLSearchParams;
      /** Names the client's query may never override. */
      readonly authQueryNames: ReadonlySet<string>;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * @example
 *   resolvePassthroughTarget({ provider: openAiProvider, endpoint: undefined, authQuery: { key: 'k' } });
 *   // { ok: true, origin: 'https://api.openai.com', endpointPath: undefined, … }
 */
export function resolvePassthroughTarget(args: {
  readonly provider: ProviderDescriptor;
  readonly endpoint: string | undefined;
  readonly authQuery: Readonly<Record<string, string>> | undefined;
  readonly providerConf?: AiProviderConf | undefined;
}): PassthroughTarget {
  const parts = args.endpoint === undefined ? undefined : parseEndpoint(args.endpoint);
  if (args.endpoint !== undefined && parts === undefined) return { ok: false, reason: 'invalid endpoint' };
  const defaultHost = defaultHostOf(args.provider, args.providerConf);
  const origin = parts?.origin ?? (defaultHost === undefined ? undefined : `https://${defaultHost}`);
  if (origin === undefined)
    return { ok: false, reason: `provider ${args.provider.id} has no default host; set override.endpoint` };
  return {
    ok: true,
    origin,
    endpointPath: parts?.path,
    baseQuery: new URLSearchParams(mergeQuery(args.authQuery, parts?.query)),
    authQueryNames: new Set(Object.keys(args.authQuery ?? {})),
  };
}

/**
 * The path and query of one passthrough request: the endpoint's path, else the client's; the client's
 * query arguments override the endpoint's but never `auth.query` (§5.5).
 *
 * @example
 *   passthroughPathAndQuery(target, '/v1/models', 'limit=5'); // '/v1/models?key=k&limit=5'
 */
export function passthroughPathAndQuery(
  target: Extract<PassthroughTarget, { ok: true }>,
  clientPath: string,
  clientQuery: string,
): string {
  const query = new URLSearchParams(target.baseQuery);
  if (clientQuery !== '') {
    const client = new URLSearchParams(clientQuery);
    for (const name of new Set(client.keys())) {
      if (target.authQueryNames.has(name)) continue;
      query.delete(name);
      for (const value of client.getAll(name)) query.append(name, value);
    }
  }
  const serialized = query.toString();
  return `${target.endpointPath ?? clientPath}${serialized === '' ? '' : `?${serialized}`}`;
}
