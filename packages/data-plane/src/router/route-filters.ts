import { compileVarsExpression, createIpMatcher } from '@switchboard/core';
import type { Logger } from 'pino';
import type { RequestVars } from './request-vars.js';
import { type CandidateVerdict, NEEDS_BODY } from './verdict.js';

/** The per-candidate filters of a route (admin-api.md §6.3), compiled once per config change. */
export type RouteFilter = (vars: RequestVars) => CandidateVerdict;

export type CompileFiltersResult =
  | { readonly ok: true; readonly filter: RouteFilter }
  | { readonly ok: false; readonly message: string };

export interface RouteFilterSpec {
  readonly methods?: readonly string[] | undefined;
  readonly remoteAddrs?: readonly string[] | undefined;
  readonly vars?: unknown;
}

/**
 * Compiles `methods`, `remote_addrs` and `vars` into one test, cheapest first. A `vars` rule that
 * reads `post_arg.*` asks for the body (NEEDS_BODY) only after methods and addresses passed.
 * An evaluation error counts as no match and is logged (§6.3).
 *
 * @example compileRouteFilters({ methods: ['POST'] }, { routeKey, logger }).filter(vars)
 */
export function compileRouteFilters(
  spec: RouteFilterSpec,
  context: { readonly routeKey: string; readonly logger: Logger },
): CompileFiltersResult {
  const methods = spec.methods === undefined || spec.methods.length === 0 ? undefined : new Set(spec.methods);
  let addresses: ((address: string) => boolean) | undefined;
  if (spec.remoteAddrs !== undefined && spec.remoteAddrs.length > 0) {
    const compiled = createIpMatcher(spec.remoteAddrs);
    if (!compiled.ok) return { ok: false, message: compiled.message };
    addresses = (address) => compiled.matcher.matches(address);
  }
  let evaluate: ((vars: RequestVars) => boolean) | undefined;
  let needsBody = false;
  if (Array.isArray(spec.vars) && spec.vars.length > 0) {
    const compiled = compileVarsExpression(spec.vars);
    if (!compiled.ok) return { ok: false, message: `failed to validate the 'vars' expression: ${compiled.message}` };
    // An evaluation error counts as no match and is logged (admin-api.md §6.3); evaluate never throws.
    const onError = (error: unknown): void => {
      context.logger.warn({ key: context.routeKey, err: error }, 'vars expression failed; treated as no match');
    };
    evaluate = (vars) => compiled.evaluate(vars, onError);
    needsBody = readsRequestBody(spec.vars);
  }
  if (methods === undefined && addresses === undefined && evaluate === undefined)
    return { ok: true, filter: alwaysPasses };

  return {
    ok: true,
    filter(vars) {
      if (methods !== undefined && !methods.has(vars.method)) return false;
      if (addresses !== undefined && !addresses(vars.remoteAddr)) return false;
      if (evaluate === undefined) return true;
      if (needsBody && !vars.bodyLoaded) return NEEDS_BODY;
      return evaluate(vars);
    },
  };
}

function alwaysPasses(): CandidateVerdict {
  return true;
}

/** Whether any leaf of a lua-resty-expr rule reads a `post_arg` variable (its first element). */
export function readsRequestBody(rule: unknown): boolean {
  if (!Array.isArray(rule)) return false;
  const head: unknown = rule[0];
  if (typeof head === 'string' && head.startsWith('post_arg')) return true;
  return rule.some((element) => Array.isArray(element) && readsRequestBody(element));
}
