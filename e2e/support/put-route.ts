import assert from 'node:assert/strict';
import type { Cluster } from './cluster.js';
import { httpRequest } from './http.js';
import { pollUntil } from './poll.js';

export interface PutRouteOptions {
  /**
   * What a request with body `{}` gets once a replica serves the route: 400 by default (`{}` matches
   * no AI protocol, so the answer proves the route is loaded and reaches no mock); 401 behind key-auth.
   */
  readonly loadedStatus?: number;
}

/**
 * PUTs `route` as `/routes/<id>` through the Admin API (created or replaced) and waits until every
 * data-plane replica serves its `uri`; resolves that uri.
 * @example
 *   const uri = await putRouteAndAwaitReplicas(cluster, '1', aiRoute({ uri: '/chat', instances }));
 */
export async function putRouteAndAwaitReplicas(
  cluster: Cluster,
  id: string,
  route: Readonly<Record<string, unknown>>,
  options: PutRouteOptions = {},
): Promise<string> {
  const { uri } = route;
  if (typeof uri !== 'string') throw new TypeError(`route ${id} has no uri`);
  const loadedStatus = options.loadedStatus ?? 400;
  const response = await cluster.admin.put(`/routes/${id}`, route);
  assert.ok(response.status === 201 || response.status === 200, response.text);
  for (const proxyUrl of cluster.proxyUrls) {
    await pollUntil(async () => (await httpRequest(`${proxyUrl}${uri}`, { body: {} })).status === loadedStatus, {
      timeoutMs: 10_000,
      description: `${uri} on ${proxyUrl}`,
    });
  }
  return uri;
}
