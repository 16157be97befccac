/** Where an expression reads request variables (`uri`, `arg_x`, `http_x`, `cookie_x`, `post_arg.model`, …). */
export interface VarsContext {
  get(name: string): unknown;
}

export type CompiledVars =
  | { readonly ok: true; readonly evaluate: (vars: VarsContext) => boolean }
  | { readonly ok: false; readonly message: string };

/** STUB (helper core-schemas replaces it): compiles a lua-resty-expr rule (admin-api.md §6.4). */
export function compileVarsExpression(_rule: unknown): CompiledVars {
  return { ok: false, message: 'not implemented yet' };
}
