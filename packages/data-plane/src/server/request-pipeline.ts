import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '@switchboard/core';
import { isSwitchboardError } from '@switchboard/core';
import type { Logger } from 'pino';
import type { RouteRuntime, RuntimeConfig } from '../config/runtime-config.js';
import type { ChainPlugin } from '../plugins/plugin-chain.js';
import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';
import { normalizeRequestPath } from '../router/normalize-path.js';
import { RequestVars } from '../router/request-vars.js';
import { NEEDS_BODY } from '../router/verdict.js';
import { type AccessLog, accessLogThrough, writeAccessLog } from './access-log.js';
import { RequestBody } from './request-body.js';
import { PipelineContext } from './request-context.js';
import { sendErrorMessage, sendResponse } from './respond.js';
import { type PhaseStop, PLUGIN_FAILED_CODE, PluginFailure, runLogPhase, runPhase } from './run-phase.js';
import { proxyToUpstream } from './upstream-proxy.js';

export interface RequestPipelineOptions {
  /** The config version to use; read once per request. */
  readonly runtime: () => RuntimeConfig;
  readonly logger: Logger;
  /** Where access lines go (createAccessLog); the operational logger when not given. */
  readonly accessLog?: AccessLog;
  readonly dispatchers: DispatcherRegistry;
  /** Monotonic milliseconds, for the access log's latency. */
  readonly now: () => number;
  /** Bound on the body read to match `post_arg.*` vars. */
  readonly maxRoutingBodyBytes: number;
}

/** What the access log and log phase need once the response is over. */
interface RequestRecord {
  route: RouteRuntime | undefined;
  ctx: PipelineContext | undefined;
  plugins: readonly ChainPlugin[];
}

/**
 * The request pipeline (admin-api.md §6): match → 404, rewrite, the consumer's plugins merged in,
 * access, then the plain upstream proxy or 503; the log phase and one access-log line when the
 * response is over. Nothing here parses config: everything comes prepared in the RuntimeConfig.
 *
 * @example http.createServer(createRequestPipeline({ runtime: () => state.current(), logger, dispatchers, now, maxRoutingBodyBytes }))
 */
export function createRequestPipeline(
  options: RequestPipelineOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger } = options;
  const accessLog = options.accessLog ?? accessLogThrough(logger);

  function finish(req: IncomingMessage, res: ServerResponse, record: RequestRecord, started: number): void {
    if (record.ctx !== undefined) runLogPhase(record.plugins, record.ctx);
    writeAccessLog(accessLog, {
      routeId: record.route?.route.id,
      method: req.method ?? '',
      path: record.ctx?.path ?? req.url ?? '',
      status: res.statusCode,
      latencyMs: options.now() - started,
      consumer: record.ctx?.consumer?.username,
      fields: record.ctx?.logFields,
      aborted: !res.writableFinished,
    });
  }

  function fail(res: ServerResponse, error: unknown, record: RequestRecord): void {
    if (isSwitchboardError(error)) {
      logger.info({ code: error.code, route_id: record.route?.route.id }, error.message);
      sendErrorMessage(res, error.status, error.message);
      return;
    }
    const plugin = error instanceof PluginFailure ? error.plugin : undefined;
    logger.error(
      {
        code: plugin === undefined ? ('SB_ERR_INTERNAL' satisfies ErrorCode) : PLUGIN_FAILED_CODE,
        plugin,
        route_id: record.route?.route.id,
        err: error instanceof PluginFailure ? error.cause : error,
      },
      plugin === undefined ? 'request failed' : `plugin ${plugin} failed`,
    );
    sendErrorMessage(res, 500, 'internal server error');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> {
    const runtime = options.runtime();
    const vars = new RequestVars(req, normalizeRequestPath(req.url ?? '/'));
    const body = new RequestBody(req);
    let matched = matchRoute(runtime, vars);
    if (matched === NEEDS_BODY) {
      vars.setBody(await body.read(options.maxRoutingBodyBytes));
      matched = matchRoute(runtime, vars);
    }
    if (matched === undefined || matched === NEEDS_BODY || matched.route.serviceMissing) {
      sendErrorMessage(res, 404, '404 Route Not Found');
      return;
    }
    record.route = matched;
    if (matched.chain.failedPlugin !== undefined)
      throw new PluginFailure(matched.chain.failedPlugin, new Error('prepare failed'));
    const ctx = new PipelineContext({
      req,
      res,
      vars,
      body,
      routeKey: matched.route.key,
      routeId: matched.route.id,
      logger,
    });
    record.ctx = ctx;
    record.plugins = matched.chain.plugins;

    let stop = await runPhase('rewrite', matched.chain.plugins, ctx);
    if (stop === undefined && ctx.consumer !== undefined) {
      const merged = runtime.consumerChain(matched, ctx.consumer);
      if (merged.failedPlugin !== undefined) throw new PluginFailure(merged.failedPlugin, new Error('prepare failed'));
      record.plugins = merged.plugins;
      stop = await runPhase('rewrite', merged.rewriteAfterAuth, ctx);
    }
    stop ??= await runPhase('access', record.plugins, ctx);
    if (stop !== undefined) {
      answerStop(ctx, stop);
      return;
    }
    const upstream = matched.upstream;
    if (upstream === undefined) sendErrorMessage(res, 503, 'missing upstream configuration in Route or Service');
    else if ('status' in upstream) sendErrorMessage(res, upstream.status, upstream.message);
    else await proxyToUpstream(ctx, upstream, { dispatchers: options.dispatchers });
  }

  return (req, res) => {
    const started = options.now();
    const record: RequestRecord = { route: undefined, ctx: undefined, plugins: [] };
    res.once('close', () => finish(req, res, record, started));
    handle(req, res, record).catch((error: unknown) => fail(res, error, record));
  };
}

function matchRoute(runtime: RuntimeConfig, vars: RequestVars): RouteRuntime | typeof NEEDS_BODY | undefined {
  return runtime.router.match(vars.path, vars, (candidate) => candidate.filter(vars));
}

/** A plugin's PhaseResult; `_meta.error_response` replaces the body of an error (admin-api.md §6.7). */
function answerStop(ctx: PipelineContext, stop: PhaseStop): void {
  if (stop.outcome === 'handled') return;
  const { status, body, headers } = stop.outcome;
  const replaced = status >= 400 && stop.plugin.errorResponse !== undefined ? stop.plugin.errorResponse : body;
  sendResponse(ctx.res, status, replaced, headers);
}
