import type { AdminContext } from '../admin-context.js';
import { adminError } from '../errors.js';
import { assertUniqueAuthKeys } from '../unique-keys.js';
import { defineResource, type ResourceAddress } from './define-resource.js';

async function consumerExists(ctx: AdminContext, address: ResourceAddress): Promise<boolean> {
  return (await ctx.store.get(`${ctx.prefix}/consumers/${address.parent ?? ''}`)) !== undefined;
}

/**
 * `/apisix/admin/consumers/{username}/credentials` (admin-api.md §3.3). The body is validated before
 * the consumer is looked up, so a bad body for a missing consumer is a 400, not a 404.
 */
export const credentialsResource = defineResource({
  name: 'credentials',
  kind: 'credential',
  unsupportedMethods: ['POST', 'PATCH'],
  directory: (address) => `consumers/${address.parent ?? ''}/credentials`,
  checkAfterPlugins: ({ ctx, value, address, id }) =>
    assertUniqueAuthKeys(ctx, { username: address.parent ?? '', credentialId: id }, value.plugins),
  beforeStore: async (ctx, address) => {
    if (!(await consumerExists(ctx, address))) throw adminError('SB_ADMIN_CONSUMER_NOT_FOUND');
  },
  // DECISIONS.md: an existing consumer without credentials lists `{"list":[],"total":0}`; only a
  // missing consumer is `404 {"message":"Key not found"}`.
  beforeList: async (ctx, address) => {
    if (!(await consumerExists(ctx, address))) throw adminError('SB_ADMIN_KEY_NOT_FOUND');
  },
});
