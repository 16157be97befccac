import { type SchemaOptions, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';

/**
 * Small builders for JSON-Schema keywords TypeBox spells differently from APISIX's schemas, so that
 * the message describer (validation/describe-error.ts) can report them in APISIX's own words
 * (admin-api.md §1.6).
 */

/**
 * Marks a union whose members are exclusive alternatives (APISIX's `oneOf`). TypeBox has no `oneOf`,
 * so the compiled check treats the union as `anyOf`: use this only for members that can never both
 * match. The describer then reports `value should match only one schema, but matches none`.
 */
export const ExclusiveUnionMark: unique symbol = Symbol.for('switchboard.schema.oneOf');

/** A union of literals standing for a JSON-Schema `enum`; Static<> is the union of the values. */
export type TEnum<V extends string | number> = TUnion<TLiteral<V>[]>;

/**
 * An `enum` of strings. Written as a union of literals (what TypeBox compiles) carrying `type`, which
 * TypeBox ignores on a union but the describer checks first, so a number is reported as
 * `wrong type: expected string, got number` and a wrong string as `matches none of the enum values`.
 *
 * @example const Scheme = StringEnum(['http', 'https'], { default: 'http' });
 */
export function StringEnum<const V extends readonly [string, ...string[]]>(
  values: V,
  options: SchemaOptions = {},
): TEnum<V[number]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    { type: 'string', ...options },
  ) as unknown as TEnum<V[number]>;
}

/** An `enum` of integers (route `status: [1, 0]`). */
export function IntegerEnum<const V extends readonly [number, ...number[]]>(
  values: V,
  options: SchemaOptions = {},
): TEnum<V[number]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    { type: 'integer', ...options },
  ) as unknown as TEnum<V[number]>;
}

/**
 * APISIX's `oneOf` over value alternatives that cannot overlap (credential ids, `_meta.error_response`).
 *
 * @example const ErrorResponse = ExclusiveUnion([Type.String(), Type.Object({})]);
 */
export function ExclusiveUnion<const T extends TSchema[]>(members: [...T], options: SchemaOptions = {}): TUnion<T> {
  return Type.Union(members, { ...options, [ExclusiveUnionMark]: true }) as unknown as TUnion<T>;
}

/** JSON-Schema `{required: [...]}` fragment used inside structural `allOf`/`anyOf`/`oneOf`/`not` rules. */
export function requires(...names: string[]): { readonly required: string[] } {
  return { required: names };
}
