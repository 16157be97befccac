import { consumersResource } from './consumers.js';
import { credentialsResource } from './credentials.js';
import type { ResourceDescriptor } from './define-resource.js';
import { routesResource } from './routes.js';
import { servicesResource } from './services.js';
import { upstreamsResource } from './upstreams.js';

/** The CRUD resources by URL segment; a segment not here is `Unsupported resource type` (§1.5). */
export const ADMIN_RESOURCES: ReadonlyMap<string, ResourceDescriptor> = new Map(
  [routesResource, servicesResource, upstreamsResource, consumersResource, credentialsResource].map(
    (descriptor) => [descriptor.name, descriptor] as const,
  ),
);
