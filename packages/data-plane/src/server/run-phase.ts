import type { ErrorCode } from '@switchboard/core';
import type { ChainPlugin } from '../plugins/plugin-chain.js';
import type { PhaseResult } from '../plugins/runtime-plugin.js';
import type { PipelineContext } from './request-context.js';

/** A plugin ended the request: with a response to send, or `'handled'` when it wrote one itself. */
export interface PhaseStop {
  readonly plugin: ChainPlugin;
  readonly outcome: NonNullable<PhaseResult> | 'handled';
}

/** A plugin threw or rejected; the pipeline answers 500 and logs the plugin's name. */
export class PluginFailure extends Error {
  readonly plugin: string;

  constructor(plugin: string, cause: unknown) {
    super(`plugin ${plugin} failed`, { cause });
    this.name = 'PluginFailure';
    this.plugin = plugin;
  }
}

/**
 * Runs one phase over plugins already in priority order (admin-api.md §6.7): only plugins that
 * implement the phase, only when their `_meta.filter` matches; the first that returns a result ends it.
 *
 * @example const stop = await runPhase('access', route.chain.plugins, ctx);
 */
export async function runPhase(
  phase: 'rewrite' | 'access',
  plugins: readonly ChainPlugin[],
  ctx: PipelineContext,
): Promise<PhaseStop | undefined> {
  for (const plugin of plugins) {
    const handler = plugin.runtime[phase];
    if (handler === undefined) continue;
    if (plugin.filter !== undefined && !plugin.filter(ctx.vars)) continue;
    let outcome: PhaseResult | 'handled';
    try {
      const returned = handler.call(plugin.runtime, ctx, plugin.prepared);
      outcome = returned instanceof Promise ? await returned : returned;
    } catch (error) {
      throw new PluginFailure(plugin.name, error);
    }
    if (outcome !== undefined) return { plugin, outcome };
  }
  return undefined;
}

/** The log phase: after the response; it never changes it, and a failing plugin only logs. */
export function runLogPhase(plugins: readonly ChainPlugin[], ctx: PipelineContext): void {
  for (const plugin of plugins) {
    if (plugin.runtime.log === undefined) continue;
    if (plugin.filter !== undefined && !plugin.filter(ctx.vars)) continue;
    try {
      plugin.runtime.log(ctx, plugin.prepared);
    } catch (error) {
      ctx.logger.error(
        { code: PLUGIN_FAILED_CODE, plugin: plugin.name, route_id: ctx.routeId, err: error },
        'plugin log phase failed',
      );
    }
  }
}

/** Logged when a plugin throws; the client sees a 500 `{"error_msg":"internal server error"}`. */
export const PLUGIN_FAILED_CODE = 'SB_ERR_PLUGIN_FAILED' satisfies ErrorCode;
