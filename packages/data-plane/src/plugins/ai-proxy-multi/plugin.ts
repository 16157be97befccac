import { SwitchboardError } from '@switchboard/core';
import type { RequestContext, RuntimePlugin } from '../runtime-plugin.js';
import { type AttemptOutcome, runAttempt } from './attempt.js';
import { readClientAiRequest } from './client-request.js';
import type { AiProxyMultiConf } from './conf.js';
import { writeGatewayError } from './gateway-error.js';
import { recordClientRequest } from './log-fields.js';
import { type PreparedAiProxyMulti, prepareAiProxyMulti } from './prepare.js';
import { requestUpstreamHeaders } from './upstream-headers.js';

export interface AiProxyMultiDeps {
  /** Draws each picker's random start, at prepare time only. */
  readonly random: () => number;
  /** Monotonic milliseconds, for time to first token and upstream response time. */
  readonly now: () => number;
}

/** Answers the client with an attempt that sent nothing (no fallback yet: the first attempt is final). */
function finishAttempt(ctx: RequestContext, instanceName: string, outcome: AttemptOutcome): void {
  switch (outcome.kind) {
    case 'relayed':
      return;
    case 'client-gone':
      ctx.logger.info(
        { instance: instanceName },
        'client disconnected during AI request, aborted the upstream request',
      );
      return;
    case 'broken-stream':
      ctx.logger.warn(
        { instance: instanceName, code: outcome.error.code },
        `AI stream broken after the first byte: ${outcome.error.message}`,
      );
      return;
    case 'failed':
      writeGatewayError(ctx.res, outcome.error);
      return;
    case 'upstream-error':
      // §3.4: the upstream's status and body, headers relayed (DECISIONS).
      if (ctx.res.destroyed) return;
      ctx.res.writeHead(outcome.status, { ...outcome.headers, 'content-length': String(outcome.body.length) });
      ctx.res.end(outcome.body);
      return;
  }
}

/**
 * The runtime half of ai-proxy-multi (ai-proxy-multi.md §2–§6): `prepare` compiles the conf once per
 * change; `access` validates the body, picks an instance, runs one attempt and writes the response
 * itself, so it always returns `'handled'`. Gateway-made errors are OpenAI-shaped JSON (DECISIONS).
 *
 * @example
 *   const plugin = createAiProxyMultiPlugin({ random: Math.random, now: () => performance.now() });
 */
export function createAiProxyMultiPlugin(
  deps: AiProxyMultiDeps,
): RuntimePlugin<AiProxyMultiConf, PreparedAiProxyMulti> {
  return {
    name: 'ai-proxy-multi',
    prepare: (conf, scope) => prepareAiProxyMulti(conf, scope, { random: deps.random }),
    async access(ctx, prepared): Promise<'handled'> {
      const request = await readClientAiRequest(ctx, prepared.maxRequestBodyBytes);
      if (request instanceof SwitchboardError) {
        writeGatewayError(ctx.res, request);
        return 'handled';
      }
      recordClientRequest(ctx.logFields, request);

      const name = prepared.picker.pick({ tried: new Set() });
      const instance = name === undefined ? undefined : prepared.instances.get(name);
      if (instance === undefined) {
        writeGatewayError(ctx.res, new SwitchboardError('SB_ERR_ALL_TRIED', 'all servers tried'));
        return 'handled';
      }
      const outcome = await runAttempt({
        ctx,
        request,
        instance,
        settings: prepared,
        requestHeaders: requestUpstreamHeaders(ctx),
        now: deps.now,
      });
      finishAttempt(ctx, instance.name, outcome);
      return 'handled';
    },
  };
}

/** The plugin as the pipeline registers it. */
export const aiProxyMultiPlugin = createAiProxyMultiPlugin({ random: Math.random, now: () => performance.now() });
