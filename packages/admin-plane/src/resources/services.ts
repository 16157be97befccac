import { adminError } from '../errors.js';
import { assertReferencesExist, findReferrer, UPSTREAM_REFERENCE } from '../references.js';
import { defineResource } from './define-resource.js';

/** `/apisix/admin/services` (admin-api.md §4). */
export const servicesResource = defineResource({
  name: 'services',
  kind: 'service',
  listFilterFields: ['upstream_id'],
  checkAfterShape: ({ ctx, value }) => assertReferencesExist(ctx, value, [UPSTREAM_REFERENCE]),
  checkDeletable: async (ctx, id) => {
    const referrer = await findReferrer(ctx, 'service_id', id, [{ directory: 'routes', kind: 'route' }]);
    if (referrer !== undefined) {
      throw adminError(
        'SB_ADMIN_IN_USE',
        `can not delete this service directly, ${referrer.kind} [${referrer.id}] is still using it now`,
      );
    }
  },
});
