import { findPlugin } from '@switchboard/core';
import type { AdminContext } from './admin-context.js';
import { adminError } from './errors.js';
import type { StoredObject } from './secrets.js';
import { isPlainObject, parseStoredObject } from './stored-value.js';

/**
 * Auth-key uniqueness across consumers and credentials (admin-api.md §3.6). APISIX looks in the
 * node's synced cache and can race; Switchboard reads the consumers prefix afresh and decrypts it,
 * so a duplicate written a moment earlier is still caught.
 */

/** Who is writing: a consumer (no credential id) or one credential of a consumer. */
export interface AuthKeyOwner {
  readonly username: string;
  readonly credentialId?: string;
}

interface UniqueValue {
  readonly plugin: string;
  readonly attribute: string;
  readonly value: string;
}

/** `$env://…` and `$secret://…` are references resolved at runtime, not keys (§3.6). */
function isSecretReference(value: string): boolean {
  return value.startsWith('$env://') || value.startsWith('$secret://');
}

function uniqueValuesOf(plugins: unknown): UniqueValue[] {
  if (!isPlainObject(plugins)) return [];
  const values: UniqueValue[] = [];
  for (const [plugin, conf] of Object.entries(plugins)) {
    const attribute = findPlugin(plugin)?.uniqueAttribute;
    const value = attribute === undefined || !isPlainObject(conf) ? undefined : conf[attribute];
    if (attribute !== undefined && typeof value === 'string' && !isSecretReference(value)) {
      values.push({ plugin, attribute, value });
    }
  }
  return values;
}

/** `<prefix>/consumers/jack` or `<prefix>/consumers/jack/credentials/c1`; anything else is skipped. */
function ownerOfKey(relativeKey: string): AuthKeyOwner | undefined {
  const segments = relativeKey.split('/');
  const [username, credentials, credentialId] = segments;
  if (username === undefined || username === '') return undefined;
  if (segments.length === 1) return { username };
  if (segments.length === 3 && credentials === 'credentials' && credentialId !== undefined && credentialId !== '') {
    return { username, credentialId };
  }
  return undefined;
}

/** A consumer write owns everything of that consumer; a credential write only that credential. */
function isSelf(writer: AuthKeyOwner, owner: AuthKeyOwner): boolean {
  if (writer.username !== owner.username) return false;
  return writer.credentialId === undefined || writer.credentialId === owner.credentialId;
}

function duplicateMessage(found: UniqueValue, owner: AuthKeyOwner): string {
  const where =
    owner.credentialId === undefined
      ? `consumer: ${owner.username}`
      : `credential: ${owner.credentialId} of consumer: ${owner.username}`;
  return `duplicate ${found.attribute} of plugin ${found.plugin} found with ${where}`;
}

/**
 * @example await assertUniqueAuthKeys(ctx, { username: 'case_b' }, { 'key-auth': { key: 'auth-one' } })
 *   // 400 duplicate key of plugin key-auth found with consumer: jack
 */
export async function assertUniqueAuthKeys(ctx: AdminContext, writer: AuthKeyOwner, plugins: unknown): Promise<void> {
  const wanted = uniqueValuesOf(plugins);
  if (wanted.length === 0) return;
  const directory = `${ctx.prefix}/consumers/`;
  const { items } = await ctx.store.list(directory);
  const owners: { readonly owner: AuthKeyOwner; readonly plugins: StoredObject }[] = [];
  for (const item of items) {
    const owner = ownerOfKey(item.key.slice(directory.length));
    const stored = parseStoredObject(item);
    if (owner === undefined || stored === undefined || isSelf(writer, owner)) continue;
    const plain = ctx.secrets.decrypt(owner.credentialId === undefined ? 'consumers' : 'credentials', stored);
    if (isPlainObject(plain.plugins)) owners.push({ owner, plugins: plain.plugins });
  }
  for (const found of wanted) {
    const clash = owners.find(({ plugins: ownerPlugins }) => {
      const conf = ownerPlugins[found.plugin];
      return isPlainObject(conf) && conf[found.attribute] === found.value;
    });
    if (clash !== undefined) throw adminError('SB_ADMIN_DUPLICATE_KEY', duplicateMessage(found, clash.owner));
  }
}
