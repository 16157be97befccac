import { adminError } from './errors.js';
import type { StoredObject } from './secrets.js';
import { isPlainObject } from './stored-value.js';

/**
 * The two PATCH forms of admin-api.md §2.5, as pure functions over the decrypted stored value.
 * Neither mutates its inputs.
 */

/**
 * Whole-body merge: objects merge key by key, `null` deletes a key, arrays replace arrays wholesale.
 * QUIRK kept (Appendix A): an empty object `{}` replaces the old value, because Lua cannot tell it
 * from an empty array.
 * @example mergePatch({ upstream: { nodes: { a: 1 } } }, { upstream: { nodes: { a: null, b: 1 } } })
 *   // { upstream: { nodes: { b: 1 } } }
 */
export function mergePatch(stored: StoredObject, patch: StoredObject): StoredObject {
  const merged: StoredObject = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete merged[key];
      continue;
    }
    const current = merged[key];
    const mergeable = isPlainObject(value) && Object.keys(value).length > 0 && isPlainObject(current);
    merged[key] = mergeable ? mergePatch(current, value) : structuredClone(value);
  }
  return merged;
}

/**
 * Sub-path patch `/routes/1/a/b`: sets `stored.a.b = value`, creating missing intermediate objects;
 * walking into a non-object is `invalid sub-path: /a`. A JSON `null` removes the field.
 * @example patchSubPath({ methods: ['GET'] }, 'methods', ['POST']) // { methods: ['POST'] }
 */
export function patchSubPath(stored: StoredObject, subPath: string, value: unknown): StoredObject {
  const names = subPath.split('/');
  const root = structuredClone(stored);
  let target: StoredObject = root;
  for (const [index, name] of names.slice(0, -1).entries()) {
    const next = target[name] ?? {};
    if (!isPlainObject(next)) throw adminError('SB_ADMIN_INVALID_SUB_PATH', names.slice(0, index + 1).join('/'));
    target[name] = next;
    target = next;
  }
  const leaf = names[names.length - 1] ?? '';
  if (value === null) delete target[leaf];
  else target[leaf] = structuredClone(value);
  return root;
}
