import { adminError } from '../errors.js';
import { findReferrer } from '../references.js';
import { defineResource } from './define-resource.js';

/** `/apisix/admin/upstreams` (admin-api.md §4). */
export const upstreamsResource = defineResource({
  name: 'upstreams',
  kind: 'upstream',
  checkDeletable: async (ctx, id) => {
    const referrer = await findReferrer(ctx, 'upstream_id', id, [
      { directory: 'routes', kind: 'route' },
      { directory: 'services', kind: 'service' },
    ]);
    if (referrer !== undefined) {
      throw adminError(
        'SB_ADMIN_IN_USE',
        `can not delete this upstream, ${referrer.kind} [${referrer.id}] is still using it now`,
      );
    }
  },
});
