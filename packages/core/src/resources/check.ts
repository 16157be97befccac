import { compileVarsExpression } from '../expr/vars-expression.js';
import { findPlugin } from '../plugins/catalog.js';
import { ConsumerSchema } from '../schema/consumer.js';
import { CredentialSchema } from '../schema/credential.js';
import { RouteSchema } from '../schema/route.js';
import { ServiceSchema } from '../schema/service.js';
import { type Upstream, UpstreamSchema } from '../schema/upstream.js';
import { compileChecker } from '../validation/checker.js';
import { checkPluginConfs } from './plugin-confs.js';
import { bareIpv6NodeError, bracketBareIpv6Nodes, upstreamRuleError } from './upstream-rules.js';

/**
 * Store-independent checks of one resource body, in APISIX's order (admin-api.md §2.3, §3.2, §3.3,
 * §4). `message` is the complete `error_msg`. `mode: 'admin'` is strict; `mode: 'data-plane'` skips
 * unknown plugins (returned in `skippedPlugins` and left out of `value`) and brackets bare IPv6 node
 * hosts instead of refusing them (§5.6).
 *
 * The Admin API runs the two halves with its store-dependent checks in between:
 * checkResourceShape → upstream_id / service_id / plugin_config_id existence (or, for consumers, the
 * URL username match) → checkResourcePlugins(kind, shape.value) → duplicate keys → encrypt.
 * The data plane runs checkResource on each decrypted item.
 */
export type ResourceKind = 'routes' | 'services' | 'upstreams' | 'consumers' | 'credentials';

export interface ResourceCheckOptions {
  readonly mode: 'admin' | 'data-plane';
}

export type ResourceCheckResult =
  | {
      readonly ok: true;
      /** Defaulted copy (plugin confs defaulted by their own schemas); the input is never mutated. */
      readonly value: Record<string, unknown>;
      readonly skippedPlugins: readonly string[];
      /** Things worth a log line, e.g. an invalid conf accepted because its plugin is disabled. */
      readonly warnings?: readonly string[];
    }
  | { readonly ok: false; readonly message: string };

const SHAPE_CHECKERS = {
  routes: compileChecker(RouteSchema),
  services: compileChecker(ServiceSchema),
  upstreams: compileChecker(UpstreamSchema),
  consumers: compileChecker(ConsumerSchema),
  credentials: compileChecker(CredentialSchema),
} as const;

/**
 * @example
 * checkResource('routes', { uri: '/x', methods: ['GET', 'GET'], upstream_id: 1 }, { mode: 'admin' })
 * // { ok: false, message: 'invalid configuration: property "methods" validation failed: expected unique items but items 1 and 2 are equal' }
 */
export function checkResource(kind: ResourceKind, body: unknown, options: ResourceCheckOptions): ResourceCheckResult {
  const shape = checkResourceShape(kind, body, options);
  return shape.ok ? checkResourcePlugins(kind, shape.value, options) : shape;
}

/** The first half: structural pre-checks, the schema, and inline/standalone upstream checks. */
export function checkResourceShape(
  kind: ResourceKind,
  body: unknown,
  options: ResourceCheckOptions,
): ResourceCheckResult {
  if (kind === 'routes' && isObject(body)) {
    if (body.host !== undefined && body.hosts !== undefined) return fail('only one of host or hosts is allowed');
    if (body.remote_addr !== undefined && body.remote_addrs !== undefined) {
      return fail('only one of remote_addr or remote_addrs is allowed');
    }
  }
  if (kind === 'upstreams' && options.mode === 'admin') {
    const ipv6Error = bareIpv6NodeError(body);
    if (ipv6Error !== undefined) return fail(ipv6Error);
  }
  const checked = SHAPE_CHECKERS[kind](body);
  if (!checked.ok) return fail(`invalid configuration: ${checked.message}`);
  const value = checked.value as Record<string, unknown>;
  const upstream = kind === 'upstreams' ? (value as Upstream) : (value.upstream as Upstream | undefined);
  if (upstream !== undefined) {
    const ipv6Error = kind === 'upstreams' ? undefined : bareIpv6NodeError(upstream);
    if (ipv6Error !== undefined && options.mode === 'admin') return fail(ipv6Error);
    if (options.mode === 'data-plane') bracketBareIpv6Nodes(upstream);
    const upstreamError = upstreamRuleError(upstream);
    if (upstreamError !== undefined) return fail(upstreamError);
  }
  return { ok: true, value, skippedPlugins: [] };
}

/**
 * The second half, on the value checkResourceShape returned: plugin confs (§2.7; consumer mode with
 * the `invalid plugins configuration: ` prefix for consumers and credentials), the credential's
 * auth-only rule (§3.3), route `vars` (§2.3 step 7), then Lua fields.
 *
 * Decision (admin-api.md §2.3 step 8): `filter_func` and `script` are Lua that Switchboard cannot
 * run, so they are refused with `filter_func is not supported` / `script is not supported` rather
 * than accepted and silently ignored (ignoring `filter_func` would widen what a route matches).
 * This holds in both modes: a data plane drops such an item (fail closed) instead of serving it.
 */
export function checkResourcePlugins(
  kind: ResourceKind,
  value: Readonly<Record<string, unknown>>,
  options: ResourceCheckOptions,
): ResourceCheckResult {
  const consumerSide = kind === 'consumers' || kind === 'credentials';
  const prefix = consumerSide ? 'invalid plugins configuration: ' : '';
  const result: Record<string, unknown> = { ...value };
  let skippedPlugins: readonly string[] = [];
  let warnings: readonly string[] = [];
  if (isObject(value.plugins) && kind !== 'upstreams') {
    const plugins = checkPluginConfs(value.plugins, {
      mode: options.mode,
      holder: consumerSide ? 'consumer' : 'route',
    });
    if (!plugins.ok) return fail(`${prefix}${plugins.message}`);
    result.plugins = plugins.value;
    skippedPlugins = plugins.skippedPlugins;
    warnings = plugins.warnings;
    if (kind === 'credentials' && Object.keys(plugins.value).some((name) => findPlugin(name)?.type !== 'auth')) {
      return fail('only supports auth type plugins in consumer credential');
    }
  }
  if (kind === 'routes' && value.vars !== undefined) {
    const vars = compileVarsExpression(value.vars);
    if (!vars.ok) return fail(`failed to validate the 'vars' expression: ${vars.message}`);
  }
  if (kind === 'routes' && value.filter_func !== undefined) return fail('filter_func is not supported');
  if ((kind === 'routes' || kind === 'services') && value.script !== undefined) return fail('script is not supported');
  return warnings.length > 0
    ? { ok: true, value: result, skippedPlugins, warnings }
    : { ok: true, value: result, skippedPlugins };
}

function fail(message: string): ResourceCheckResult {
  return { ok: false, message };
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
