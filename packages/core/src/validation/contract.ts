import type { Static, TSchema } from '@sinclair/typebox';

/**
 * Result of checking a value against a TypeBox schema. On success `value` is a defaulted deep copy
 * (the input is never mutated, so the Admin API can persist the raw body while the data plane uses
 * the defaulted one). On failure `message` is in APISIX's jsonschema vocabulary, without the
 * `invalid configuration: ` prefix, e.g. `property "methods" validation failed: failed to validate
 * item 1: matches none of the enum values`.
 */
export type CheckResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

export type Checker<S extends TSchema> = (value: unknown) => CheckResult<Static<S>>;
