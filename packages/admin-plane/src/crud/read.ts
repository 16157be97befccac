import { adminError } from '../errors.js';
import { applyListQuery } from '../list.js';
import { keyOf } from '../resources/define-resource.js';
import { parseStoredObject, toV3Item, type V3Item } from '../stored-value.js';
import type { CrudRequest, CrudResult } from './crud-request.js';

/** GET one item: `{key, value, createdIndex, modifiedIndex}` with secrets decrypted (§1.7). */
async function getOne({ ctx, descriptor, address }: CrudRequest, id: string): Promise<CrudResult> {
  const item = await ctx.store.get(keyOf(ctx, descriptor, address, id));
  const stored = item === undefined ? undefined : parseStoredObject(item);
  if (item === undefined || stored === undefined) throw adminError('SB_ADMIN_KEY_NOT_FOUND');
  return { status: 200, body: toV3Item(item, ctx.secrets.decrypt(descriptor.name, stored)) };
}

/**
 * GET a collection: the direct children of the directory in key order (a consumer list therefore
 * hides credentials), placeholders skipped, then filters and paging (§1.8).
 */
async function getList(request: CrudRequest): Promise<CrudResult> {
  const { ctx, descriptor, address, query } = request;
  await descriptor.beforeList(ctx, address);
  const directory = `${ctx.prefix}/${descriptor.directory(address)}/`;
  const { items } = await ctx.store.list(directory);
  const children: V3Item[] = [];
  for (const item of items) {
    const name = item.key.slice(directory.length);
    const stored = name === '' || name.includes('/') ? undefined : parseStoredObject(item);
    if (stored !== undefined) children.push(toV3Item(item, ctx.secrets.decrypt(descriptor.name, stored)));
  }
  return { status: 200, body: applyListQuery(children, query, { filterFields: descriptor.listFilterFields }) };
}

export function readResource(request: CrudRequest): Promise<CrudResult> {
  const { id } = request.address;
  return id === undefined ? getList(request) : getOne(request, id);
}
