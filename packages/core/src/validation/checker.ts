import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { Checker } from './contract.js';
import { createSchemaDescriber } from './describe-error.js';

/**
 * Compiles a TypeBox schema once into a checker that answers like APISIX (admin-api.md §1.6).
 *
 * The TypeBox compiled check is the fast path. On failure the describer words the first error in
 * APISIX's vocabulary. Schemas may also carry JSON-Schema keywords TypeBox does not compile (the
 * route's `allOf`/`anyOf`/`not`, the upstream's `oneOf`, `dependencies`); for those the describer
 * also runs on values the compiled check accepted. On success the result is a defaulted deep copy:
 * the input is never mutated, so the Admin API can store the raw body (§2.8).
 *
 * @example
 * const check = compileChecker(RouteSchema);
 * check({ uri: '/x', methods: ['invalid_method'], upstream_id: 1 });
 * // { ok: false, message: 'property "methods" validation failed: failed to validate item 1: matches none of the enum values' }
 */
export function compileChecker<S extends TSchema>(schema: S): Checker<S> {
  const compiled = TypeCompiler.Compile(schema);
  const describe = createSchemaDescriber();
  const describerMustConfirm = usesUncompiledKeywords(schema);
  return (value) => {
    const message = compiled.Check(value)
      ? describerMustConfirm
        ? describe(schema, value)
        : undefined
      : (describe(schema, value) ?? typeBoxMessage(compiled.Errors(value).First()));
    if (message !== undefined) return { ok: false, message };
    return { ok: true, value: Value.Default(schema, Value.Clone(value)) as Static<S> };
  };
}

/**
 * The first error of `value` against `schema` in APISIX's words, or undefined when it is valid.
 * Compiles nothing: meant for one-off checks (a chash `key`, tests); use compileChecker for hot paths.
 *
 * @example describeSchemaError(Type.Integer({ minimum: 400 }), 200) // 'expected 200 to be at least 400'
 */
export function describeSchemaError(schema: TSchema, value: unknown): string | undefined {
  return createSchemaDescriber()(schema, value);
}

/** Only reached if the describer and TypeBox ever disagree; keeps the request failing with a reason. */
function typeBoxMessage(error: { readonly path: string; readonly message: string } | undefined): string {
  if (error === undefined) return 'invalid value';
  return error.path === '' ? error.message : `${error.path.slice(1).replaceAll('/', '.')}: ${error.message}`;
}

/**
 * True when some node carries a keyword the TypeBox compiler ignores for its Kind. (An
 * ExclusiveUnion compiles as anyOf; that is exact because its members never overlap.)
 */
function usesUncompiledKeywords(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (Array.isArray(node)) return node.some(usesUncompiledKeywords);
  const schema = node as Readonly<Record<string | symbol, unknown>>;
  const kind = schema[Kind];
  const ignored =
    'oneOf' in schema ||
    'dependencies' in schema ||
    'enum' in schema ||
    ('anyOf' in schema && kind !== 'Union') ||
    ('allOf' in schema && kind !== 'Intersect') ||
    ('not' in schema && kind !== 'Not') ||
    ('patternProperties' in schema && kind !== 'Record');
  if (ignored) return true;
  return ['properties', 'patternProperties', 'additionalProperties', 'items', 'anyOf', 'allOf', 'oneOf', 'not'].some(
    (key) => {
      const child = schema[key];
      if (key === 'properties' || key === 'patternProperties') {
        return typeof child === 'object' && child !== null && Object.values(child).some(usesUncompiledKeywords);
      }
      return usesUncompiledKeywords(child);
    },
  );
}
