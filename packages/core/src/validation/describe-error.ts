import { Kind, type TSchema } from '@sinclair/typebox';
import { ExclusiveUnionMark } from '../schema/keywords.js';

/**
 * Finds the first reason a value fails a JSON Schema and words it as APISIX's validator does
 * (api7/jsonschema, vocabulary in admin-api.md §1.6), e.g.
 * `property "methods" validation failed: failed to validate item 1: matches none of the enum values`.
 *
 * Keywords are visited in that validator's order: type; object keywords (declared properties and
 * their `required`, then the remaining `required`, `dependencies`, `patternProperties` and
 * `additionalProperties`, then the property counts); array keywords; string keywords; number
 * keywords; `enum`; `allOf`; `anyOf`; `oneOf`; `not`; `const`. Values are named by their Lua types
 * (`table`, `string`, `number`, `boolean`), as APISIX users see them.
 */
export type SchemaDescriber = (schema: TSchema, value: unknown) => string | undefined;

type SchemaNode = Readonly<Record<string | symbol, unknown>>;

/**
 * Creates a describer with its own compiled-pattern cache (one per compiled checker).
 *
 * @example createSchemaDescriber()(Type.Integer({ minimum: 400 }), 200) // 'expected 200 to be at least 400'
 */
export function createSchemaDescriber(): SchemaDescriber {
  const patterns = new Map<string, RegExp>();
  const regex = (source: string): RegExp => {
    let compiled = patterns.get(source);
    if (compiled === undefined) {
      compiled = new RegExp(source);
      patterns.set(source, compiled);
    }
    return compiled;
  };

  const describe = (schema: SchemaNode, value: unknown): string | undefined =>
    typeError(schema, value) ??
    (isPlainObject(value) ? objectError(schema, value) : undefined) ??
    (Array.isArray(value) ? arrayError(schema, value) : undefined) ??
    (typeof value === 'string' ? stringError(schema, value) : undefined) ??
    (typeof value === 'number' ? numberError(schema, value) : undefined) ??
    enumError(schema, value) ??
    combinatorError(schema, value) ??
    constError(schema, value);

  const objectError = (schema: SchemaNode, value: Readonly<Record<string, unknown>>): string | undefined => {
    const properties = asSchemaMap(schema.properties);
    const required = new Set(asStrings(schema.required));
    for (const [name, propertySchema] of Object.entries(properties)) {
      if (Object.hasOwn(value, name)) {
        const inner = describe(propertySchema, value[name]);
        if (inner !== undefined) return `property ${luaQuote(name)} validation failed: ${inner}`;
      } else if (required.has(name)) {
        return `property ${luaQuote(name)} is required`;
      }
      required.delete(name);
    }
    for (const name of required) {
      if (!Object.hasOwn(value, name)) return `property ${luaQuote(name)} is required`;
    }
    return (
      dependencyError(schema, value) ??
      extraPropertyError(schema, value, properties) ??
      propertyCountError(schema, value)
    );
  };

  const dependencyError = (schema: SchemaNode, value: Readonly<Record<string, unknown>>): string | undefined => {
    if (!isPlainObject(schema.dependencies)) return undefined;
    for (const [name, dependency] of Object.entries(schema.dependencies)) {
      if (!Object.hasOwn(value, name)) continue;
      if (Array.isArray(dependency)) {
        const missing = asStrings(dependency).find((other) => !Object.hasOwn(value, other));
        if (missing !== undefined) return `property ${luaQuote(missing)} is required when ${luaQuote(name)} is set`;
      } else if (isPlainObject(dependency)) {
        const inner = describe(dependency, value);
        if (inner !== undefined) return `failed to validate dependent schema for ${luaQuote(name)}: ${inner}`;
      }
    }
    return undefined;
  };

  const extraPropertyError = (
    schema: SchemaNode,
    value: Readonly<Record<string, unknown>>,
    properties: Readonly<Record<string, SchemaNode>>,
  ): string | undefined => {
    const patternSchemas = Object.entries(asSchemaMap(schema.patternProperties));
    const additional = schema.additionalProperties;
    const restrictsAdditional = additional === false || isPlainObject(additional);
    if (patternSchemas.length === 0 && !restrictsAdditional) return undefined;
    for (const [key, propertyValue] of Object.entries(value)) {
      let matched = false;
      for (const [pattern, patternSchema] of patternSchemas) {
        if (!regex(pattern).test(key)) continue;
        const inner = describe(patternSchema, propertyValue);
        if (inner !== undefined) return `failed to validate ${key} (matching ${luaQuote(pattern)}): ${inner}`;
        matched = true;
      }
      if (!restrictsAdditional || matched || Object.hasOwn(properties, key)) continue;
      if (additional === false) return `additional properties forbidden, found ${key}`;
      const inner = describe(additional as SchemaNode, propertyValue);
      if (inner !== undefined) return `failed to validate additional property ${key}: ${inner}`;
    }
    return undefined;
  };

  const arrayError = (schema: SchemaNode, value: readonly unknown[]): string | undefined => {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      return `expect array to have at least ${schema.minItems} items`;
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      return `expect array to have at most ${schema.maxItems} items`;
    }
    const items = schema.items;
    for (let index = 0; index < value.length; index++) {
      const itemSchema = Array.isArray(items)
        ? (items[index] as SchemaNode | undefined)
        : isPlainObject(items)
          ? items
          : undefined;
      if (itemSchema === undefined) continue;
      const inner = describe(itemSchema, value[index]);
      if (inner !== undefined) return `failed to validate item ${index + 1}: ${inner}`;
    }
    if (schema.uniqueItems === true) {
      for (let later = 1; later < value.length; later++) {
        const earlier = value.findIndex((item, index) => index < later && deepEqual(item, value[later]));
        if (earlier !== -1) return `expected unique items but items ${earlier + 1} and ${later + 1} are equal`;
      }
    }
    return undefined;
  };

  const stringError = (schema: SchemaNode, value: string): string | undefined => {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) {
      return `string too short, expected at least ${schema.minLength}, got ${length}`;
    }
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
      return `string too long, expected at most ${schema.maxLength}, got ${length}`;
    }
    if (typeof schema.pattern === 'string' && !regex(schema.pattern).test(value)) {
      return `failed to match pattern ${luaQuote(schema.pattern)} with ${luaQuote(value)}`;
    }
    return undefined;
  };

  const combinatorError = (schema: SchemaNode, value: unknown): string | undefined => {
    if (Array.isArray(schema.allOf)) {
      for (const [index, member] of schema.allOf.entries()) {
        const inner = describe(member as SchemaNode, value);
        if (inner !== undefined) return `allOf ${index + 1} failed: ${inner}`;
      }
    }
    if (Array.isArray(schema.anyOf) && enumValues(schema) === undefined) {
      const members = schema.anyOf as SchemaNode[];
      if (schema[ExclusiveUnionMark] === true) return exclusiveError(members, value);
      if (!members.some((member) => describe(member, value) === undefined)) {
        const requiredLists = members
          .filter((member) => Array.isArray(member.required))
          .map((member) => JSON.stringify(member.required));
        return `object matches none of the required${requiredLists.length > 0 ? `: ${requiredLists.join(' or ')}` : ''}`;
      }
    }
    if (Array.isArray(schema.oneOf)) {
      const inner = exclusiveError(schema.oneOf as SchemaNode[], value);
      if (inner !== undefined) return inner;
    }
    if (isPlainObject(schema.not) && describe(schema.not, value) === undefined) {
      return "value wasn't supposed to match schema";
    }
    return undefined;
  };

  const exclusiveError = (members: readonly SchemaNode[], value: unknown): string | undefined => {
    let matched: number | undefined;
    for (const [index, member] of members.entries()) {
      if (describe(member, value) !== undefined) continue;
      if (matched !== undefined) {
        return `value should match only one schema, but matches both schemas ${matched + 1} and ${index + 1}`;
      }
      matched = index;
    }
    return matched === undefined ? 'value should match only one schema, but matches none' : undefined;
  };

  return (schema, value) => describe(schema as unknown as SchemaNode, value);
}

function typeError(schema: SchemaNode, value: unknown): string | undefined {
  const expected = schema.type;
  if (typeof expected !== 'string' || hasJsonType(value, expected)) return undefined;
  return `wrong type: expected ${expected}, got ${luaTypeName(value)}`;
}

function numberError(schema: SchemaNode, value: number): string | undefined {
  const shown = formatLuaNumber(value);
  if (typeof schema.minimum === 'number' && value < schema.minimum) {
    return `expected ${shown} to be at least ${formatLuaNumber(schema.minimum)}`;
  }
  if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) {
    return `expected ${shown} to be greater than ${formatLuaNumber(schema.exclusiveMinimum)}`;
  }
  if (typeof schema.maximum === 'number' && value > schema.maximum) {
    return `expected ${shown} to be at most ${formatLuaNumber(schema.maximum)}`;
  }
  if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) {
    return `expected ${shown} to be smaller than ${formatLuaNumber(schema.exclusiveMaximum)}`;
  }
  if (typeof schema.multipleOf === 'number' && !isMultipleOf(value, schema.multipleOf)) {
    return `expected ${shown} to be a multiple of ${formatLuaNumber(schema.multipleOf)}`;
  }
  return undefined;
}

function propertyCountError(schema: SchemaNode, value: Readonly<Record<string, unknown>>): string | undefined {
  const count = Object.keys(value).length;
  if (typeof schema.minProperties === 'number' && count < schema.minProperties) {
    return `expect object to have at least ${schema.minProperties} properties`;
  }
  if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) {
    return `expect object to have at most ${schema.maxProperties} properties`;
  }
  return undefined;
}

function enumError(schema: SchemaNode, value: unknown): string | undefined {
  const values = enumValues(schema);
  if (values === undefined || values.some((candidate) => deepEqual(candidate, value))) return undefined;
  return 'matches none of the enum values';
}

function constError(schema: SchemaNode, value: unknown): string | undefined {
  if (!Object.hasOwn(schema, 'const') || deepEqual(schema.const, value)) return undefined;
  return 'failed to check const value';
}

/** `enum`, or a TypeBox union of literals (how StringEnum/IntegerEnum spell an enum). */
function enumValues(schema: SchemaNode): readonly unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if (schema[Kind] !== 'Union' || !Array.isArray(schema.anyOf) || schema.anyOf.length === 0) return undefined;
  const members = schema.anyOf as SchemaNode[];
  return members.every((member) => member[Kind] === 'Literal') ? members.map((member) => member.const) : undefined;
}

function hasJsonType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

/** Lua's `type()` of the decoded JSON value; cjson decodes `null` to a userdata sentinel. */
function luaTypeName(value: unknown): string {
  if (value === undefined) return 'nil';
  if (value === null) return 'userdata';
  if (typeof value === 'object') return 'table';
  return typeof value;
}

/** Lua's `%q`: double quotes, with `"` and `\` escaped. */
function luaQuote(text: string): string {
  return `"${text
    .replace(/[\\"]/g, (char) => `\\${char}`)
    .replace(/\n/g, '\\\n')
    .replace(/\r/g, '\\r')
    .replace(/\0/g, '\\0')}"`;
}

/** Lua prints numbers with `%.14g`; integers print without a fraction. */
function formatLuaNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return String(Number(value.toPrecision(14)));
}

function isMultipleOf(value: number, divisor: number): boolean {
  const quotient = value / divisor;
  const rounded = Math.round(quotient);
  return Math.abs(quotient - rounded) <= 1e-12 * Math.max(1, Math.abs(rounded));
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asSchemaMap(value: unknown): Readonly<Record<string, SchemaNode>> {
  return isPlainObject(value) ? (value as Readonly<Record<string, SchemaNode>>) : {};
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) || Array.isArray(right)) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((item, index) => deepEqual(item, right[index]))
    );
  }
  if (!isPlainObject(left) || !isPlainObject(right)) return false;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]))
  );
}
