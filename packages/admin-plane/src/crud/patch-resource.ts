import { adminError } from '../errors.js';
import { mergePatch, patchSubPath } from '../patch.js';
import { keyOf } from '../resources/define-resource.js';
import type { StoredObject } from '../secrets.js';
import { isPlainObject, parseStoredObject } from '../stored-value.js';
import { runResourceChecks } from './check-pipeline.js';
import type { CrudRequest, CrudResult } from './crud-request.js';

/** §2.4: a whole-body PATCH keeps `update_time` when the body sets it; a sub-path PATCH never does. */
function withPatchTimestamps(merged: StoredObject, now: number, keepUpdateTime: boolean): StoredObject {
  const createTime = merged.create_time ?? now;
  const updateTime = keepUpdateTime && merged.update_time !== undefined ? merged.update_time : now;
  return { ...merged, create_time: createTime, update_time: updateTime };
}

/**
 * PATCH (admin-api.md §2.5): read, decrypt, merge (whole body) or replace one field (sub-path),
 * check like a write with timestamps allowed, re-encrypt, then compare-and-swap on the revision read.
 */
export async function patchResource(request: CrudRequest): Promise<CrudResult> {
  const { ctx, descriptor, address, body } = request;
  const id = address.id;
  if (id === undefined) throw adminError('SB_ADMIN_MISSING_ID', descriptor.kind);
  if (body === undefined) throw adminError('SB_ADMIN_MISSING_NEW_CONFIGURATION');
  const subPath = address.subPath;
  if (subPath === undefined && !isPlainObject(body)) throw adminError('SB_ADMIN_PATCH_NOT_OBJECT');

  const key = keyOf(ctx, descriptor, address, id);
  const item = await ctx.store.get(key);
  const stored = item === undefined ? undefined : parseStoredObject(item);
  if (item === undefined || stored === undefined) throw adminError('SB_ADMIN_KEY_NOT_FOUND');
  const plain = ctx.secrets.decrypt(descriptor.name, stored);

  const merged =
    subPath === undefined
      ? withPatchTimestamps(
          mergePatch(plain, body as StoredObject),
          ctx.nowSeconds(),
          isPlainObject(body) && body.update_time !== undefined,
        )
      : withPatchTimestamps(patchSubPath(plain, subPath, body), ctx.nowSeconds(), false);
  // §2.5 step 6: the merged id must still be the URL id, which is then stored as a string.
  if (merged.id !== undefined && String(merged.id) !== id) throw adminError('SB_ADMIN_WRONG_ID', descriptor.kind);
  const conf = { ...merged, id };

  await runResourceChecks(ctx, descriptor, address, conf, id);
  const value = ctx.secrets.encrypt(descriptor.name, conf);
  const swapped = await ctx.store.putIfUnchanged(key, JSON.stringify(value), item.modRevision);
  if (!swapped) throw adminError('SB_ADMIN_VALUE_CHANGED');
  return { status: 200, body: { key, value } };
}
