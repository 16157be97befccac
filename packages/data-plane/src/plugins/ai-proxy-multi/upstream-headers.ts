import { forwardableRequestHeaders, type HeaderMap } from '../../upstream/headers.js';
import type { RequestContext } from '../runtime-plugin.js';
import type { PreparedInstance } from './prepare.js';

/**
 * The per-request part of the upstream headers (ai-proxy-multi.md §5.4): the client's headers, lower-cased,
 * minus host/framing/accept-encoding/hop-by-hop, then what earlier plugins asked for
 * (`ctx.upstreamHeaders`, e.g. key-auth's consumer name; undefined removes a header).
 */
export function requestUpstreamHeaders(ctx: RequestContext): HeaderMap {
  const headers = forwardableRequestHeaders(ctx.req.headers);
  for (const [name, value] of ctx.upstreamHeaders) {
    const lower = name.toLowerCase();
    if (value === undefined) delete headers[lower];
    else headers[lower] = value;
  }
  return headers;
}

/**
 * The headers of one attempt: the instance's `auth.header` wins over the client's on the same name (§4.3),
 * and the body is always declared JSON (§5.4 rule 3). `content-length` is set by undici from the body.
 *
 * @example
 *   attemptUpstreamHeaders({ authorization: 'Bearer client' }, instance); // { authorization: 'Bearer <configured>', 'content-type': 'application/json' }
 */
export function attemptUpstreamHeaders(requestHeaders: HeaderMap, instance: PreparedInstance): HeaderMap {
  return { ...requestHeaders, ...instance.authHeaders, 'content-type': 'application/json' };
}
