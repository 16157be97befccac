import type { FastifyReply, onRequestAsyncHookHandler } from 'fastify';

/**
 * Response headers every admin answer carries (admin-api.md §1.4): `Server`, and with
 * `enable_admin_cors` the CORS set. `X-API-VERSION` is not here: only resource handlers set it.
 */
export interface AdminHeaderOptions {
  /** `enable_server_tokens`: `APISIX/<version>` when true, plain `APISIX` when false. */
  readonly serverTokens: boolean;
  readonly version: string;
  readonly cors: boolean;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': '*',
  'access-control-max-age': '3600',
} as const;

const PREFLIGHT_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, PUT, OPTIONS, DELETE, PATCH',
  'access-control-max-age': '3600',
  'access-control-allow-headers': '*',
  'access-control-allow-credentials': 'true',
  'content-length': '0',
  'content-type': 'text/plain',
} as const;

/** Sets `Server` (and CORS headers) on every response, errors included. */
export function createResponseHeadersHook(options: AdminHeaderOptions): onRequestAsyncHookHandler {
  const server = options.serverTokens ? `APISIX/${options.version}` : 'APISIX';
  return async (_request, reply) => {
    void reply.header('server', server);
    if (options.cors) void reply.headers(CORS_HEADERS);
  };
}

function answerPreflight(reply: FastifyReply): FastifyReply {
  return reply.removeHeader('access-control-expose-headers').headers(PREFLIGHT_HEADERS).code(200).send('');
}

/**
 * With CORS on, `OPTIONS` is answered 200 at once, without a token and with an empty text body. With
 * CORS off it falls through to the router, which has no OPTIONS route: 404, as in APISIX.
 */
export function createPreflightHook(options: Pick<AdminHeaderOptions, 'cors'>): onRequestAsyncHookHandler {
  return async (request, reply) => {
    // Replying from an async hook: return the reply so Fastify stops the chain (Fastify docs, Hooks).
    if (options.cors && request.method === 'OPTIONS') return answerPreflight(reply);
    return undefined;
  };
}
