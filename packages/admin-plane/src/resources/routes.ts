import {
  assertReferencesExist,
  PLUGIN_CONFIG_REFERENCE,
  SERVICE_REFERENCE,
  UPSTREAM_REFERENCE,
} from '../references.js';
import { defineResource } from './define-resource.js';

/** `/apisix/admin/routes` (admin-api.md §2); routes are never refused on DELETE. */
export const routesResource = defineResource({
  name: 'routes',
  kind: 'route',
  listFilterFields: ['service_id', 'upstream_id'],
  // §2.3 step 5.5: upstream_id, then service_id, then plugin_config_id.
  checkAfterShape: ({ ctx, value }) =>
    assertReferencesExist(ctx, value, [UPSTREAM_REFERENCE, SERVICE_REFERENCE, PLUGIN_CONFIG_REFERENCE]),
});
