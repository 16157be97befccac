/** Node's and undici's header records: lower-cased names, repeated fields as arrays. */
type IncomingHttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type HeaderMap = Record<string, string | string[]>;

/** RFC 9110 §7.6.1 connection-specific fields, plus `proxy-connection` which undici rejects. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Client headers that never go upstream (ai-proxy-multi.md §5.4): the client's Host, its framing
 * (`content-length` is recomputed from the outgoing body), `accept-encoding` (the gateway must be able to
 * parse the response, so it never asks for compression), `expect`, and hop-by-hop fields.
 */
const NOT_FORWARDED_UPSTREAM = new Set([...HOP_BY_HOP, 'host', 'content-length', 'accept-encoding', 'expect']);

/**
 * Upstream headers not relayed to the client (DECISIONS: relay everything else, unlike APISIX which keeps
 * only Content-Type): hop-by-hop fields, and the framing headers that the gateway re-creates itself.
 */
const NOT_RELAYED_DOWNSTREAM = new Set([...HOP_BY_HOP, 'content-length', 'content-encoding']);

const NONE: ReadonlySet<string> = new Set();

/** Names listed in a `Connection` header are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionListed(headers: IncomingHttpHeaders): ReadonlySet<string> {
  const value = headers.connection;
  // The usual values name no header: skip the parse on the hot path.
  if (value === undefined || value === 'keep-alive' || value === 'close') return NONE;
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    joined
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
}

function copyExcept(headers: IncomingHttpHeaders, excluded: ReadonlySet<string>): HeaderMap {
  const listed = connectionListed(headers);
  const copy: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (excluded.has(lower) || listed.has(lower)) continue;
    copy[lower] = value;
  }
  return copy;
}

/**
 * The client's request headers as forwarded upstream, names lower-cased.
 *
 * @example
 *   forwardableRequestHeaders({ host: 'gw', 'accept-encoding': 'gzip', authorization: 'Bearer x' }); // { authorization: 'Bearer x' }
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): HeaderMap {
  return copyExcept(headers, NOT_FORWARDED_UPSTREAM);
}

/**
 * The upstream's response headers as relayed to the client.
 *
 * @example
 *   relayableResponseHeaders({ 'content-type': 'application/json', 'content-length': '12', 'x-request-id': 'r1' });
 *   // { 'content-type': 'application/json', 'x-request-id': 'r1' }
 */
export function relayableResponseHeaders(headers: IncomingHttpHeaders): HeaderMap {
  return copyExcept(headers, NOT_RELAYED_DOWNSTREAM);
}
