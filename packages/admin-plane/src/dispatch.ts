import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from './admin-context.js';
import { parseAdminPath } from './admin-path.js';
import { decodeAdminBody } from './body.js';
import type { CrudResult } from './crud/crud-request.js';
import { runCrud } from './crud/run-crud.js';
import { adminError } from './errors.js';
import { readPluginEndpoint } from './plugins-endpoints.js';
import { type AdminQuery, parseTtl } from './query.js';
import { sendJson } from './reply.js';
import type { AdminMethod } from './resources/define-resource.js';
import { ADMIN_RESOURCES } from './resources/registry.js';

type ResourceHandler = (body: unknown, ttlSeconds: number | undefined) => Promise<CrudResult>;

/**
 * Finds the handler for the path and method in APISIX's order (admin-api.md §1.5): an unknown
 * resource is a 404 before the body is even read, a method the resource lacks is `not found`.
 */
function resolveHandler(ctx: AdminContext, method: AdminMethod, url: string, query: AdminQuery): ResourceHandler {
  const path = parseAdminPath(url);
  if (path.resource === undefined) throw adminError('SB_ADMIN_NOT_FOUND');
  if (path.resource === 'plugins') {
    if (method !== 'GET') throw adminError('SB_ADMIN_NOT_FOUND');
    return async () => readPluginEndpoint(path.id, query);
  }
  const descriptor = ADMIN_RESOURCES.get(path.resource);
  if (descriptor === undefined) throw adminError('SB_ADMIN_UNSUPPORTED_RESOURCE', path.resource);
  const address = { id: path.id, parent: path.parent, subPath: path.subPath };
  return (body, ttlSeconds) => runCrud(method, { ctx, descriptor, address, body, query, ttlSeconds });
}

/**
 * The handler of `/apisix/admin/*`. `X-API-VERSION: v3` goes only on answers the resource handler
 * produced, errors included, never on routing, body or token errors (§1.4).
 */
export function createAdminDispatch(ctx: AdminContext) {
  return async function dispatchAdminRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = (request.query ?? {}) as AdminQuery;
    const handler = resolveHandler(ctx, request.method as AdminMethod, request.url, query);
    const body = decodeAdminBody(request.body);
    const ttlSeconds = parseTtl(query);
    void reply.header('x-api-version', 'v3');
    const result = await handler(body, ttlSeconds);
    sendJson(reply, result.status, result.body);
  };
}
