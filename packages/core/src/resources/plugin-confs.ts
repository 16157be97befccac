import { compileVarsExpression } from '../expr/vars-expression.js';
import { PLUGIN_CATALOG } from '../plugins/catalog.js';
import type { PluginDescriptor } from '../plugins/descriptor.js';
import { compileChecker } from '../validation/checker.js';
import type { CheckResult } from '../validation/contract.js';

/**
 * Checks the `plugins` map of a route, service, consumer or credential (admin-api.md §2.7, §3.2).
 * Messages are APISIX's, without the consumer-side `invalid plugins configuration: ` prefix.
 */
export interface PluginConfsCheckOptions {
  readonly mode: 'admin' | 'data-plane';
  /** `consumer`: auth plugins use their consumer schema (key-auth requires `key`). */
  readonly holder: 'route' | 'consumer';
}

export type PluginConfsCheckResult =
  | {
      readonly ok: true;
      /** Each conf defaulted by its own schema; skipped plugins are left out. */
      readonly value: Record<string, unknown>;
      readonly skippedPlugins: readonly string[];
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly message: string };

type ConfChecker = (conf: unknown) => CheckResult<unknown>;

interface CompiledPlugin {
  readonly descriptor: PluginDescriptor;
  readonly route: ConfChecker;
  readonly consumer: ConfChecker;
}

/** Compiled once per process: schemas are constant and checkers are pure. */
const COMPILED_PLUGINS: ReadonlyMap<string, CompiledPlugin> = new Map(
  PLUGIN_CATALOG.map((descriptor) => {
    const route = withCrossFieldRules(descriptor, compileChecker(descriptor.schema));
    const consumer =
      descriptor.consumerSchema === undefined
        ? route
        : withCrossFieldRules(descriptor, compileChecker(descriptor.consumerSchema));
    return [descriptor.name, { descriptor, route, consumer }];
  }),
);

/**
 * @example
 * checkPluginConfs({ 'key-auth': {} }, { mode: 'admin', holder: 'route' })
 * // { ok: true, value: { 'key-auth': { header: 'apikey', query: 'apikey', realm: 'key', hide_credentials: false } }, … }
 */
export function checkPluginConfs(
  plugins: Readonly<Record<string, unknown>>,
  options: PluginConfsCheckOptions,
): PluginConfsCheckResult {
  const value: Record<string, unknown> = {};
  const skippedPlugins: string[] = [];
  const warnings: string[] = [];
  for (const [name, conf] of Object.entries(plugins)) {
    if (!isObject(conf)) {
      return { ok: false, message: `invalid plugin conf ${JSON.stringify(conf) ?? 'null'} for plugin [${name}]` };
    }
    const compiled = COMPILED_PLUGINS.get(name);
    if (compiled === undefined) {
      // §5.6: a data plane skips plugins it does not know, so a control plane can carry newer ones
      if (options.mode === 'data-plane') {
        skippedPlugins.push(name);
        continue;
      }
      return { ok: false, message: `unknown plugin [${name}]` };
    }
    const checked = (options.holder === 'consumer' ? compiled.consumer : compiled.route)(conf);
    if (checked.ok) {
      value[name] = checked.value;
    } else if (isDisabled(conf)) {
      // §2.7: a disabled plugin never runs, so an invalid conf of it must not invalidate the item
      warnings.push(
        `failed to check the configuration of disabled plugin ${name}, accepting it anyway: ${checked.message}`,
      );
      value[name] = structuredClone(conf);
    } else {
      return { ok: false, message: `failed to check the configuration of plugin ${name} err: ${checked.message}` };
    }
    const filter = isObject(conf._meta) ? conf._meta.filter : undefined;
    if (filter !== undefined) {
      const compiledFilter = compileVarsExpression(filter);
      if (!compiledFilter.ok)
        return { ok: false, message: `failed to validate the 'vars' expression: ${compiledFilter.message}` };
    }
  }
  return { ok: true, value, skippedPlugins, warnings };
}

/** The plugin's schema, then its cross-field rules on the defaulted conf (ai-proxy-multi.md §1.11). */
function withCrossFieldRules(descriptor: PluginDescriptor, checker: ConfChecker): ConfChecker {
  const rules = descriptor.check;
  if (rules === undefined) return checker;
  return (conf) => {
    const checked = checker(conf);
    if (!checked.ok) return checked;
    const message = rules(checked.value);
    return message === undefined ? checked : { ok: false, message };
  };
}

function isDisabled(conf: Readonly<Record<string, unknown>>): boolean {
  return isObject(conf._meta) && conf._meta.disable === true;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
