import type { AdminContext } from '../admin-context.js';
import type { AdminQuery } from '../query.js';
import type { ResourceAddress, ResourceDescriptor } from '../resources/define-resource.js';

/** One resource request after routing, body decoding and the `ttl` check (admin-api.md §1.5). */
export interface CrudRequest {
  readonly ctx: AdminContext;
  readonly descriptor: ResourceDescriptor;
  readonly address: ResourceAddress;
  /** The decoded JSON body; undefined when the request had none. */
  readonly body: unknown;
  readonly query: AdminQuery;
  /** Lease seconds from `?ttl=`, when positive. */
  readonly ttlSeconds: number | undefined;
}

/** What a handler answers; the dispatcher sends it as JSON with `X-API-VERSION: v3`. */
export interface CrudResult {
  readonly status: number;
  readonly body: unknown;
}
