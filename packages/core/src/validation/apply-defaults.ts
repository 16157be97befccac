import { type TSchema, TypeGuard } from '@sinclair/typebox';

/**
 * Fills schema `default`s into a value, like APISIX's jsonschema does while validating: only into
 * objects that exist and are objects (ai-proxy-multi.md §1). TypeBox's Value.Default also writes into
 * arrays standing where an object is expected, which then pass the object check; this walk never
 * touches a value of the wrong type, so the check that follows still reports it.
 * Mutates and returns `value`; callers pass a clone.
 */
export function applyDefaults(schema: TSchema, value: unknown): unknown {
  if (value === undefined) {
    if (!('default' in schema)) return undefined;
    // A defaulted object gets its own properties' defaults too (`admin: {default: {}}` → full block).
    value = structuredClone(schema.default);
  }
  if (TypeGuard.IsObject(schema) && isPlainObject(value)) {
    for (const [name, property] of Object.entries(schema.properties)) {
      const filled = applyDefaults(property, value[name]);
      if (filled !== undefined) value[name] = filled;
    }
    return value;
  }
  if (TypeGuard.IsArray(schema) && Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = applyDefaults(schema.items, value[index]);
    return value;
  }
  if (TypeGuard.IsUnion(schema)) {
    // Only the object members of a union can take defaults; use the first whose declared keys fit.
    const member = schema.anyOf.find((candidate) => TypeGuard.IsObject(candidate) && isPlainObject(value));
    return member === undefined ? value : applyDefaults(member, value);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
