/**
 * `cost_expr` of ai-rate-limiting (admin-api.md §8.1, ai-proxy-multi.md §9.2): an arithmetic expression
 * over the usage fields of a response, e.g. `prompt_tokens + completion_tokens * 4`. Numbers, the usage
 * fields (dotted paths into nested objects), `+ - * / % ^`, parentheses and the functions `abs`, `ceil`,
 * `floor`, `max`, `min` (also as `math.abs` …). A missing field counts as 0; the result is rounded and
 * never below 0. Compiled once per config change into a closure, never evaluated with `eval`.
 */

export type UsageFields = Readonly<Record<string, unknown>>;

export type CostExpression = (usage: UsageFields) => number;

export type CompiledCostExpression =
  | { readonly ok: true; readonly evaluate: CostExpression }
  | { readonly ok: false; readonly message: string };

type Node = (usage: UsageFields) => number;

const FUNCTIONS: Readonly<
  Record<string, { readonly arity: 'one' | 'many'; readonly apply: (...args: number[]) => number }>
> = {
  abs: { arity: 'one', apply: Math.abs },
  ceil: { arity: 'one', apply: Math.ceil },
  floor: { arity: 'one', apply: Math.floor },
  max: { arity: 'many', apply: Math.max },
  min: { arity: 'many', apply: Math.min },
};

/** An expression longer than this is refused: costs are short formulas, not programs. */
const MAX_EXPRESSION_LENGTH = 1024;

type Token =
  | { readonly kind: 'number'; readonly value: number; readonly at: number }
  | { readonly kind: 'name'; readonly value: string; readonly at: number }
  | { readonly kind: 'op'; readonly value: string; readonly at: number }
  | { readonly kind: 'end'; readonly at: number };

class ExpressionError extends Error {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|([-+*/%^(),]))/y;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(source);
    if (match === null) {
      const offset = at + (source.slice(at).length - source.slice(at).trimStart().length);
      throw new ExpressionError(`unexpected character ${JSON.stringify(source[offset])} at position ${offset + 1}`);
    }
    const start = pattern.lastIndex - match[0].trimStart().length;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]), at: start });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', value: match[2], at: start });
    else tokens.push({ kind: 'op', value: match[3] as string, at: start });
    at = pattern.lastIndex;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

/** Recursive descent: sum → product → unary → power → primary. */
class Parser {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Node {
    const node = this.sum();
    const next = this.peek();
    if (next.kind !== 'end') throw new ExpressionError(`unexpected ${describe(next)} at position ${next.at + 1}`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private take(): Token {
    const token = this.peek();
    this.index += 1;
    return token;
  }

  private isOp(value: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.value === value;
  }

  private expect(value: string): void {
    const token = this.take();
    if (token.kind !== 'op' || token.value !== value)
      throw new ExpressionError(`expected "${value}" but found ${describe(token)} at position ${token.at + 1}`);
  }

  private sum(): Node {
    let left = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.take();
      const right = this.product();
      const l = left;
      left = op.kind === 'op' && op.value === '+' ? (u) => l(u) + right(u) : (u) => l(u) - right(u);
    }
    return left;
  }

  private product(): Node {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = (this.take() as { value: string }).value;
      const right = this.unary();
      const l = left;
      left =
        op === '*'
          ? (u) => l(u) * right(u)
          : op === '/'
            ? (u) => divide(l(u), right(u))
            : (u) => modulo(l(u), right(u));
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('-')) {
      this.take();
      const operand = this.unary();
      return (u) => -operand(u);
    }
    if (this.isOp('+')) {
      this.take();
      return this.unary();
    }
    return this.power();
  }

  /** `^` is right-associative and binds tighter than unary minus on its left: `-2^2` is -4. */
  private power(): Node {
    const base = this.primary();
    if (!this.isOp('^')) return base;
    this.take();
    const exponent = this.unary();
    return (u) => base(u) ** exponent(u);
  }

  private primary(): Node {
    const token = this.take();
    if (token.kind === 'number') {
      const value = token.value;
      return () => value;
    }
    if (token.kind === 'op' && token.value === '(') {
      const inner = this.sum();
      this.expect(')');
      return inner;
    }
    if (token.kind === 'name') {
      if (this.isOp('(')) return this.call(token);
      const path = token.value.split('.');
      return (u) => readNumber(u, path);
    }
    throw new ExpressionError(`unexpected ${describe(token)} at position ${token.at + 1}`);
  }

  private call(name: Extract<Token, { kind: 'name' }>): Node {
    const functionName = name.value.startsWith('math.') ? name.value.slice('math.'.length) : name.value;
    const fn = Object.hasOwn(FUNCTIONS, functionName) ? FUNCTIONS[functionName] : undefined;
    if (fn === undefined) throw new ExpressionError(`unknown function "${name.value}" at position ${name.at + 1}`);
    this.expect('(');
    const args: Node[] = [];
    if (!this.isOp(')')) {
      args.push(this.sum());
      while (this.isOp(',')) {
        this.take();
        args.push(this.sum());
      }
    }
    this.expect(')');
    if (fn.arity === 'one' ? args.length !== 1 : args.length < 1)
      throw new ExpressionError(
        `function "${name.value}" takes ${fn.arity === 'one' ? 'one argument' : 'at least one argument'}, got ${args.length}`,
      );
    return (u) => fn.apply(...args.map((arg) => arg(u)));
  }
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of expression' : `"${token.value}"`;
}

/** x / 0 and x % 0 count as 0: a formula must never turn a charge into Infinity or NaN. */
function divide(left: number, right: number): number {
  return right === 0 ? 0 : left / right;
}

function modulo(left: number, right: number): number {
  return right === 0 ? 0 : left % right;
}

function readNumber(usage: UsageFields, path: readonly string[]): number {
  let value: unknown = usage;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return 0;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * @example
 *   const cost = compileCostExpression('prompt_tokens + completion_tokens * 4');
 *   cost.ok && cost.evaluate({ prompt_tokens: 10, completion_tokens: 5 }) // 30
 */
export function compileCostExpression(source: string): CompiledCostExpression {
  if (source.trim() === '') return { ok: false, message: 'the expression is empty' };
  if (source.length > MAX_EXPRESSION_LENGTH)
    return { ok: false, message: `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  let root: Node;
  try {
    root = new Parser(tokenize(source)).parse();
  } catch (error) {
    if (error instanceof ExpressionError) return { ok: false, message: error.message };
    throw error;
  }
  return {
    ok: true,
    evaluate: (usage) => {
      const value = Math.round(root(usage));
      return Number.isFinite(value) && value > 0 ? value : 0;
    },
  };
}
