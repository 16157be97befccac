import { createIpMatcher } from './ip-matcher.js';

/** Where an expression reads request variables (`uri`, `arg_x`, `http_x`, `cookie_x`, `post_arg.model`, …). */
export interface VarsContext {
  get(name: string): unknown;
}

export type CompiledVars =
  | {
      readonly ok: true;
      /** Never throws: an error (e.g. `vars.get` failing) is reported to `onError` and evaluates to false. */
      readonly evaluate: (vars: VarsContext, onError?: (error: unknown) => void) => boolean;
    }
  | { readonly ok: false; readonly message: string };

type Predicate = (vars: VarsContext) => boolean;
type CompiledRule =
  | { readonly ok: true; readonly predicate: Predicate }
  | { readonly ok: false; readonly message: string };
type Comparison = (left: unknown) => boolean;

/**
 * Compiles a lua-resty-expr rule (admin-api.md §6.4) once into a predicate.
 *
 * - `[]` always matches.
 * - `[leaf, leaf, …]` is an AND; `["OR"|"AND"|"!OR"|"!AND", rule, rule, …]` needs two operands at least.
 * - A leaf is `[var, op, value]`, `[var, "!", op, value]` (negated) or the legacy `[var, value]` (`==`).
 * - Variables are read through `vars.get(name)` verbatim (`post_arg.model` included).
 * - Evaluation never throws: an error evaluates to false (§6.3: no match).
 *
 * Compile errors are lua-resty-expr's: `invalid operator '='`, `rule too short`,
 * `rule should be wrapped inside brackets`, `invalid expression`, `bad 'not' expression`,
 * `invalid ip address`. Deviation: the legacy two-element form keeps the value's case (Lua
 * lowercases it by accident).
 *
 * @example
 * const rule = compileVarsExpression([['arg_name', '==', 'json'], ['post_arg.model', '~~', '^gpt-']]);
 * if (rule.ok) rule.evaluate({ get: (name) => request.vars[name] });
 */
export function compileVarsExpression(rule: unknown): CompiledVars {
  if (!Array.isArray(rule)) return { ok: false, message: 'rule should be wrapped inside brackets' };
  if (rule.length === 0) return { ok: true, evaluate: () => true };
  if (!Array.isArray(rule[0]) && logicalOperator(rule[0]) === undefined) {
    return { ok: false, message: 'rule should be wrapped inside brackets' };
  }
  const compiled = compileRule(rule);
  if (!compiled.ok) return compiled;
  const { predicate } = compiled;
  return {
    ok: true,
    evaluate: (vars, onError) => {
      try {
        return predicate(vars);
      } catch (error) {
        onError?.(error);
        return false;
      }
    },
  };
}

const LOGICAL_OPERATORS = ['AND', 'OR', '!AND', '!OR'] as const;
type LogicalOperator = (typeof LOGICAL_OPERATORS)[number];

function logicalOperator(value: unknown): LogicalOperator | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return LOGICAL_OPERATORS.find((operator) => operator === upper);
}

function compileRule(rule: unknown): CompiledRule {
  if (!Array.isArray(rule)) return { ok: false, message: 'rule should be wrapped inside brackets' };
  if (rule.length === 0) return { ok: false, message: 'rule too short' };
  if (Array.isArray(rule[0])) return combine('AND', rule);
  const operator = logicalOperator(rule[0]);
  if (operator === undefined) return compileLeaf(rule);
  if (rule.length <= 2) return { ok: false, message: 'rule too short' };
  return combine(operator, rule.slice(1));
}

function combine(operator: LogicalOperator, rules: readonly unknown[]): CompiledRule {
  const predicates: Predicate[] = [];
  for (const rule of rules) {
    const compiled = compileRule(rule);
    if (!compiled.ok) return compiled;
    predicates.push(compiled.predicate);
  }
  const all: Predicate = (vars) => predicates.every((predicate) => predicate(vars));
  const any: Predicate = (vars) => predicates.some((predicate) => predicate(vars));
  switch (operator) {
    case 'AND':
      return { ok: true, predicate: all };
    case 'OR':
      return { ok: true, predicate: any };
    case '!AND':
      return { ok: true, predicate: (vars) => !all(vars) };
    case '!OR':
      return { ok: true, predicate: (vars) => !any(vars) };
  }
}

function compileLeaf(leaf: readonly unknown[]): CompiledRule {
  const negated = leaf.length === 4;
  if (negated && leaf[1] !== '!') return { ok: false, message: "bad 'not' expression" };
  const [variable, rawOperator, rawValue] = negated ? [leaf[0], leaf[2], leaf[3]] : [leaf[0], leaf[1], leaf[2]];
  let operator =
    typeof rawOperator === 'string'
      ? rawOperator.toLowerCase()
      : rawOperator === undefined
        ? undefined
        : String(rawOperator);
  let value = rawValue;
  if (value === undefined && !isOperator(operator)) {
    // legacy `[var, value]` means `==`
    value = rawOperator;
    operator = '==';
    if (value === undefined) return { ok: false, message: 'invalid expression' };
  }
  if (variable === undefined || variable === null || typeof variable === 'object' || operator === undefined) {
    return { ok: false, message: 'invalid expression' };
  }
  if (!isOperator(operator)) return { ok: false, message: `invalid operator '${operator}'` };
  const name = String(variable);
  if (name.startsWith('post_arg.') && !isJsonPath(name.slice('post_arg.'.length))) {
    return { ok: false, message: `invalid JSONPath in '${name}'` };
  }
  const comparison = compileComparison(operator, value === null ? undefined : value);
  if (!comparison.ok) return comparison;
  const { compare } = comparison;
  return {
    ok: true,
    predicate: (vars) => {
      const current = vars.get(name);
      return compare(current === null ? undefined : current) !== negated;
    },
  };
}

const OPERATORS = ['==', '~=', '>', '>=', '<', '<=', '~~', '~*', 'in', 'has', 'ipmatch'] as const;
type Operator = (typeof OPERATORS)[number];

function isOperator(operator: string | undefined): operator is Operator {
  return OPERATORS.some((known) => known === operator);
}

function compileComparison(
  operator: Operator,
  value: unknown,
): { readonly ok: true; readonly compare: Comparison } | { readonly ok: false; readonly message: string } {
  switch (operator) {
    case '==':
      return {
        ok: true,
        compare: (left) => (typeof value === 'number' ? luaToNumber(left) === value : luaEquals(left, value)),
      };
    case '~=':
      return {
        ok: true,
        compare: (left) => {
          if (typeof value !== 'number') return !luaEquals(left, value);
          const number = luaToNumber(left);
          return number === undefined || number !== value;
        },
      };
    case '>':
      return { ok: true, compare: numeric(value, (left, right) => left > right) };
    case '>=':
      return { ok: true, compare: numeric(value, (left, right) => left >= right) };
    case '<':
      return { ok: true, compare: numeric(value, (left, right) => left < right) };
    case '<=':
      return { ok: true, compare: numeric(value, (left, right) => left <= right) };
    case '~~':
      return { ok: true, compare: regexSearch(value, '') };
    case '~*':
      return { ok: true, compare: regexSearch(value, 'i') };
    case 'in':
      return { ok: true, compare: (left) => Array.isArray(value) && value.some((item) => luaEquals(left, item)) };
    case 'has':
      return { ok: true, compare: (left) => Array.isArray(left) && left.some((item) => luaEquals(item, value)) };
    case 'ipmatch':
      return compileIpMatch(value);
  }
}

function numeric(value: unknown, test: (left: number, right: number) => boolean): Comparison {
  const right = luaToNumber(value);
  return (left) => {
    const number = luaToNumber(left);
    return number !== undefined && right !== undefined && test(number, right);
  };
}

/** PCRE search; a pattern JavaScript cannot compile never matches (as a failing ngx.re.find). */
function regexSearch(value: unknown, flags: string): Comparison {
  let pattern: RegExp | undefined;
  try {
    pattern = typeof value === 'string' ? new RegExp(value, flags) : undefined;
  } catch {
    pattern = undefined;
  }
  return (left) =>
    pattern !== undefined && (typeof left === 'string' || typeof left === 'number') && pattern.test(String(left));
}

function compileIpMatch(
  value: unknown,
): { readonly ok: true; readonly compare: Comparison } | { readonly ok: false; readonly message: string } {
  if (value === undefined || value === '') return { ok: false, message: 'invalid ip address' };
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0) return { ok: false, message: 'invalid ip address' };
  const built = createIpMatcher(entries.map(String));
  if (!built.ok) return built;
  const { matcher } = built;
  return { ok: true, compare: (left) => typeof left === 'string' && matcher.matches(left) };
}

/** Lua `==`: tables are never equal to a different table, and numbers never equal strings. */
function luaEquals(left: unknown, right: unknown): boolean {
  if (typeof left === 'object' && left !== null) return false;
  return left === right;
}

/** Lua `tonumber`: numbers, and decimal or hexadecimal numerals with surrounding blanks. */
function luaToNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) return Number(text);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(text);
  if (hex !== null) return (hex[1] === '-' ? -1 : 1) * Number.parseInt(hex[2] ?? '', 16);
  return undefined;
}

/**
 * The JSONPath after `post_arg.` (admin-api.md §6.4): names, `*`, and `[n]`, `[*]`, `['key']`
 * subscripts, e.g. `messages[*].content[*].type`.
 */
function isJsonPath(path: string): boolean {
  return /^(?:[^.[\]'"]+|\*)(?:\.(?:[^.[\]'"]+|\*)|\[(?:[0-9]+|\*|'[^']*'|"[^"]*")\])*$/.test(path);
}
