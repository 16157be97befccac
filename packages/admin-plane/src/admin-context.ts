import type { ConfigStore } from '@switchboard/core';
import type { FastifyBaseLogger } from 'fastify';
import type { ResourceSecrets } from './secrets.js';

/** What every admin handler works with; built once per server and passed down (no singletons). */
export interface AdminContext {
  readonly store: ConfigStore;
  /** The etcd key prefix, `/apisix` by default: keys are `<prefix>/routes/1`. */
  readonly prefix: string;
  readonly secrets: ResourceSecrets;
  /** Unix seconds for `create_time`/`update_time` (admin-api.md §2.4). */
  readonly nowSeconds: () => number;
  readonly logger: FastifyBaseLogger;
}
