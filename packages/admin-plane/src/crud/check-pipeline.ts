import { checkResourcePlugins, checkResourceShape } from '@switchboard/core';
import type { AdminContext } from '../admin-context.js';
import { adminError } from '../errors.js';
import type { ResourceAddress, ResourceDescriptor } from '../resources/define-resource.js';
import type { StoredObject } from '../secrets.js';
import { isPlainObject } from '../stored-value.js';

/**
 * The check steps shared by PUT, POST and PATCH, in the order that sets APISIX's error precedence
 * (admin-api.md §2.3): ids, forbidden timestamps, shape, store-dependent checks, plugins, and the
 * checks that need the plugins to be valid (duplicate keys).
 */

const TIMESTAMP_PROPERTIES = ['create_time', 'update_time'] as const;

/** Lua truthiness: only an absent value or `false` lets a forbidden property through. */
function isPresent(value: unknown): boolean {
  return value !== undefined && value !== false;
}

/**
 * §2.3 step 4 (PUT and POST only): `create_time`/`update_time` at the top level, inside `upstream`,
 * or as a key of `plugins`. DECISIONS.md drops APISIX's double space in the message.
 */
export function assertNoTimestamps(conf: StoredObject): void {
  const scopes: readonly [string, unknown][] = [
    ['', conf],
    ['upstream.', conf.upstream],
    ['plugins.', conf.plugins],
  ];
  for (const [prefix, scope] of scopes) {
    if (!isPlainObject(scope)) continue;
    for (const property of TIMESTAMP_PROPERTIES) {
      if (isPresent(scope[property])) throw adminError('SB_ADMIN_FORBIDDEN_PROPERTY', `${prefix}${property}`);
    }
  }
}

/**
 * §2.2: the URL id wins and is stored as a string; a body-only id keeps its JSON type. Returns the
 * key id and sets `conf.id`.
 */
export function resolvePutId(kind: string, urlId: string | undefined, conf: StoredObject): string {
  const bodyId = conf.id;
  if (urlId === undefined && bodyId === undefined) throw adminError('SB_ADMIN_MISSING_ID', kind);
  if (urlId !== undefined && bodyId !== undefined && String(bodyId) !== urlId) {
    throw adminError('SB_ADMIN_WRONG_ID', kind);
  }
  if (urlId !== undefined) conf.id = urlId;
  return urlId ?? String(bodyId);
}

function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * A body that is not an object cannot carry an id; the shape checker names what is wrong with it.
 * @example requireObjectBody('routes', [1]) // throws 400 invalid configuration: wrong type: …
 */
export function requireObjectBody(descriptor: ResourceDescriptor, body: unknown): StoredObject {
  if (isPlainObject(body)) return structuredClone(body);
  const shape = checkResourceShape(descriptor.name, body, { mode: 'admin' });
  const message = shape.ok
    ? `invalid configuration: wrong type: expected object, got ${jsonTypeName(body)}`
    : shape.message;
  throw adminError('SB_ADMIN_INVALID_CONFIGURATION', message);
}

export interface CheckedWrite {
  /** The id the item is stored under (the username for consumers). */
  readonly id: string;
  /** The checked value with defaults applied; only for checks, never persisted (§2.8). */
  readonly checked: StoredObject;
}

/**
 * Runs the resource checks on `conf` (already carrying its id). `id` is undefined for POST, whose id
 * is generated after the checks; `username` resources take theirs from the checked value.
 */
export async function runResourceChecks(
  ctx: AdminContext,
  descriptor: ResourceDescriptor,
  address: ResourceAddress,
  conf: StoredObject,
  id: string | undefined,
): Promise<CheckedWrite> {
  const shape = checkResourceShape(descriptor.name, structuredClone(conf), { mode: 'admin' });
  if (!shape.ok) throw adminError('SB_ADMIN_INVALID_CONFIGURATION', shape.message);
  const resolvedId = descriptor.identity === 'username' ? String(shape.value.username) : (id ?? '');
  const check = { ctx, value: shape.value, address, id: resolvedId };
  await descriptor.checkAfterShape(check);
  const plugins = checkResourcePlugins(descriptor.name, shape.value, { mode: 'admin' });
  if (!plugins.ok) throw adminError('SB_ADMIN_INVALID_CONFIGURATION', plugins.message);
  await descriptor.checkAfterPlugins({ ...check, value: plugins.value });
  return { id: resolvedId, checked: plugins.value };
}
