import { adminError } from '../errors.js';
import { queryValue } from '../query.js';
import { keyOf } from '../resources/define-resource.js';
import type { CrudRequest, CrudResult } from './crud-request.js';

/**
 * DELETE (admin-api.md §1.7, §4): refused while the item is in use unless `?force=true`; dependents
 * go first; a missing key is `404 {"message":"Key not found"}`. `deleted` is a string, as etcd's count.
 */
export async function deleteResource({ ctx, descriptor, address, query }: CrudRequest): Promise<CrudResult> {
  const id = address.id;
  if (id === undefined) throw adminError('SB_ADMIN_MISSING_ID', descriptor.kind);
  if (queryValue(query, 'force') !== 'true') await descriptor.checkDeletable(ctx, id);
  await descriptor.deleteDependents(ctx, address, id);
  const key = keyOf(ctx, descriptor, address, id);
  const deleted = await ctx.store.delete(key);
  if (deleted === 0) throw adminError('SB_ADMIN_KEY_NOT_FOUND');
  return { status: 200, body: { deleted: String(deleted), key } };
}
