import type { AdminContext } from './admin-context.js';
import { adminError } from './errors.js';
import type { StoredObject } from './secrets.js';
import { parseStoredObject } from './stored-value.js';

/**
 * Store-dependent reference checks. A write may only point at ids that exist (admin-api.md §2.3
 * step 5); a service or upstream may only be deleted while nothing points at it (§4). Both read the
 * store afresh instead of a cache, so they cannot race with a watcher that has not caught up.
 */

/** A field holding the id of another resource, with the words APISIX uses in the 404 message. */
export interface ReferenceField {
  readonly field: string;
  readonly directory: string;
  readonly description: string;
}

export const UPSTREAM_REFERENCE: ReferenceField = {
  field: 'upstream_id',
  directory: 'upstreams',
  description: 'upstream info by upstream id',
};
export const SERVICE_REFERENCE: ReferenceField = {
  field: 'service_id',
  directory: 'services',
  description: 'service info by service id',
};
export const PLUGIN_CONFIG_REFERENCE: ReferenceField = {
  field: 'plugin_config_id',
  directory: 'plugin_configs',
  description: 'plugin config info by plugin config id',
};
export const CONSUMER_GROUP_REFERENCE: ReferenceField = {
  field: 'group_id',
  directory: 'consumer_groups',
  description: 'consumer group info by consumer group id',
};

function referencedId(value: StoredObject, field: string): string | undefined {
  const id = value[field];
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Checks the fields in the order given; the first missing target is the error.
 * @example await assertReferencesExist(ctx, route, [UPSTREAM_REFERENCE, SERVICE_REFERENCE])
 *   // 400 failed to fetch upstream info by upstream id [99999999], response code: 404
 */
export async function assertReferencesExist(
  ctx: AdminContext,
  value: StoredObject,
  references: readonly ReferenceField[],
): Promise<void> {
  for (const reference of references) {
    const id = referencedId(value, reference.field);
    if (id === undefined) continue;
    const item = await ctx.store.get(`${ctx.prefix}/${reference.directory}/${id}`);
    if (item === undefined) throw adminError('SB_ADMIN_REFERENCE_MISSING', reference.description, id);
  }
}

/** A kind of resource that may point at the one being deleted. */
export interface Referrer {
  readonly directory: string;
  /** Singular, as in the message: `route [1] is still using it now`. */
  readonly kind: string;
}

/**
 * Finds the first referrer (in the order given, then key order) whose `field` equals `id`.
 * @example await findReferrer(ctx, 'service_id', '1', [{ directory: 'routes', kind: 'route' }])
 *   // { kind: 'route', id: '3' }
 */
export async function findReferrer(
  ctx: AdminContext,
  field: string,
  id: string,
  referrers: readonly Referrer[],
): Promise<{ readonly kind: string; readonly id: string } | undefined> {
  for (const referrer of referrers) {
    const directory = `${ctx.prefix}/${referrer.directory}/`;
    const { items } = await ctx.store.list(directory);
    for (const item of items) {
      const value = parseStoredObject(item);
      if (value !== undefined && referencedId(value, field) === id) {
        return { kind: referrer.kind, id: item.key.slice(directory.length) };
      }
    }
  }
  return undefined;
}
