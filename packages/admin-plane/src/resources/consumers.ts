import { adminError } from '../errors.js';
import { assertReferencesExist, CONSUMER_GROUP_REFERENCE } from '../references.js';
import { assertUniqueAuthKeys } from '../unique-keys.js';
import { defineResource } from './define-resource.js';

/**
 * `/apisix/admin/consumers` (admin-api.md §3.1–§3.2): named by `username`, no POST or PATCH, and
 * DELETE takes the consumer's credentials with it.
 */
export const consumersResource = defineResource({
  name: 'consumers',
  kind: 'consumer',
  identity: 'username',
  unsupportedMethods: ['POST', 'PATCH'],
  checkAfterShape: async ({ address, id }) => {
    if (address.id !== undefined && address.id !== id) throw adminError('SB_ADMIN_WRONG_USERNAME');
  },
  // §3.2 steps 4–5: duplicate auth keys, then group_id.
  checkAfterPlugins: async ({ ctx, value, id }) => {
    await assertUniqueAuthKeys(ctx, { username: id }, value.plugins);
    await assertReferencesExist(ctx, value, [CONSUMER_GROUP_REFERENCE]);
  },
  deleteDependents: async (ctx, _address, id) => {
    await ctx.store.deletePrefix(`${ctx.prefix}/consumers/${id}/credentials/`);
  },
});
