import { EventEmitter } from 'node:events';
import { SwitchboardError } from '@switchboard/core';
import type { Dispatcher } from 'undici';
import { type HeaderMap, relayableResponseHeaders } from '../../upstream/headers.js';
import { classifyTransportError } from '../../upstream/transport-error.js';
import type { RequestContext } from '../runtime-plugin.js';
import { AttemptTimers } from './attempt-timers.js';
import { finalizeUpstreamRequest, type UpstreamRequestDraft } from './auth/finalize-request.js';
import type { ClientAiRequest } from './client-request.js';
import type { ProtocolConverter } from './convert/converter.js';
import { routeProtocol } from './convert/registry.js';
import { passthroughPathAndQuery } from './endpoint.js';
import {
  type AttemptFacts,
  recordAttemptStart,
  recordLoggingEntries,
  recordResponseFacts,
  recordTimings,
} from './log-fields.js';
import type { PreparedAiProxyMulti, PreparedInstance } from './prepare.js';
import { type AiProtocol, isJsonObject, type JsonObject, type TokenUsage } from './protocols/protocol.js';
import { protocolModule } from './protocols/registry.js';
import { nativeProtocols } from './providers/provider.js';
import { type RelayEnd, type RelayInput, readCappedBody, relayWholeResponse } from './relay.js';
import { shapeUpstreamBody } from './shape-body.js';
import { streamFramingOf } from './sse/event-source.js';
import { relayEventStream } from './sse/stream-relay.js';
import { attemptUpstreamHeaders } from './upstream-headers.js';

/**
 * What one attempt came to. `upstream-error` (429/5xx and the extra error statuses, §6.1 step 1) and
 * `failed` (transport, build or cap errors before any byte, §3.2) have sent nothing to the client: a
 * fallback engine can wrap `runAttempt` and try another instance on them; without one the caller
 * answers with them.
 */
export type AttemptOutcome =
  | RelayEnd
  | { readonly kind: 'upstream-error'; readonly status: number; readonly headers: HeaderMap; readonly body: Buffer };

/** The plugin-wide settings one attempt reads. */
export type AttemptSettings = Pick<
  PreparedAiProxyMulti,
  'timeoutMs' | 'keepalive' | 'responseLimits' | 'logging' | 'attemptTimeouts'
> & {
  /** Statuses that take the error path besides 429 and 5xx (`fallback_http_statuses`, §6.1 step 1). */
  readonly errorPathStatuses?: ReadonlySet<number>;
};

export interface AttemptInput {
  readonly ctx: RequestContext;
  readonly request: ClientAiRequest;
  readonly instance: PreparedInstance;
  readonly settings: AttemptSettings;
  /** Client headers plus `ctx.upstreamHeaders`, computed once per request. */
  readonly requestHeaders: HeaderMap;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** Wall-clock milliseconds, for `created` in converted answers; defaults to Date.now. */
  readonly wallClock?: () => number;
  /** `request_deadline_ms` as a point on the `now` clock: the attempt is aborted when it passes. */
  readonly deadlineAt?: number | undefined;
  /**
   * Told the usage of an answered attempt (undefined when it carried none), for ai-rate-limiting; awaited
   * before the client's response ends when the relay ends it, so the quota is settled first.
   */
  readonly onUsage?: ((usage: TokenUsage | undefined) => Promise<void> | undefined) | undefined;
}

/** §6.1 step 1: these statuses take the error path (read whole, nothing relayed yet). */
function isErrorPathStatus(status: number, extra: ReadonlySet<number> | undefined): boolean {
  return status === 429 || (status >= 500 && status <= 599) || extra?.has(status) === true;
}

const CLIENT_METHODS = new Set(['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** Where and how this attempt goes, in which protocol, through which converter. */
interface AttemptPlan {
  readonly target: AiProtocol;
  readonly converter: ProtocolConverter | undefined;
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly path: string;
  readonly method: UpstreamRequestDraft['method'];
}

const failed = (error: SwitchboardError): AttemptOutcome => ({ kind: 'failed', error });
const connectFailure = (reason: string) =>
  failed(new SwitchboardError('SB_ERR_UPSTREAM_CONNECT', `failed to send request to LLM server: ${reason}`));

/**
 * Protocol routing and URL (ai-proxy-multi.md §4.2, §4.6, §5.5): native, passthrough (the client's
 * path, method and query) or converted; the 400 when the provider cannot serve the client's protocol.
 */
function planAttempt(input: AttemptInput): AttemptPlan | AttemptOutcome {
  const { instance, request, ctx } = input;
  const provider = instance.provider;
  if (provider === undefined) return connectFailure(`ai provider: ${instance.providerId} is not supported.`);
  const speaks = nativeProtocols(provider);
  const route = routeProtocol(request.protocol.id, speaks);
  if (route === undefined) {
    const message = `provider ${instance.providerId} does not support ${request.protocol.id} protocol (supported: ${speaks.join(', ')})`;
    return failed(new SwitchboardError('SB_ERR_BAD_REQUEST', message));
  }
  const target = protocolModule(route.target);
  const converter =
    route.converter === undefined
      ? undefined
      : route.converter.create({ createdAt: Math.floor((input.wallClock ?? Date.now)() / 1000) });
  if (route.target === 'passthrough') {
    const passthrough = instance.passthrough;
    if (!passthrough.ok) return connectFailure(passthrough.reason);
    const url = ctx.req.url ?? '/';
    const queryAt = url.indexOf('?');
    const method = (ctx.req.method ?? 'POST').toUpperCase();
    return {
      target,
      converter,
      dispatcher: passthrough.dispatcher,
      origin: passthrough.origin,
      path: passthroughPathAndQuery(
        passthrough,
        queryAt === -1 ? url : url.slice(0, queryAt),
        queryAt === -1 ? '' : url.slice(queryAt + 1),
      ),
      method: CLIENT_METHODS.has(method) ? (method as UpstreamRequestDraft['method']) : 'POST',
    };
  }
  const location = instance.locations.get(route.target);
  if (location === undefined) return connectFailure(`provider ${instance.providerId} has no path for ${route.target}`);
  if (!location.ok) return connectFailure(location.reason);
  return {
    target,
    converter,
    dispatcher: location.dispatcher,
    origin: location.origin,
    path: location.pathAndQuery,
    method: 'POST',
  };
}

/**
 * One HTTP exchange with one instance (ai-proxy-multi.md §3–§6): route the protocol, convert and shape
 * the body, POST it through the instance's pooled dispatcher with per-operation timeouts, then relay the
 * answer under the response caps. A client that goes away aborts the upstream request at once. Never
 * retries; fills the per-attempt log fields (§8).
 *
 * @example
 *   const outcome = await runAttempt({ ctx, request, instance, settings: prepared, requestHeaders, now: performance.now.bind(performance) });
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptOutcome> {
  const { ctx, request, instance } = input;
  recordAttemptStart(ctx.logFields, { instanceName: instance.name, model: instance.model ?? request.model });
  const plan = planAttempt(input);
  if ('kind' in plan) return plan;
  if (ctx.res.destroyed) return { kind: 'client-gone' };

  const startedAt = input.now();
  const elapsedMs = () => input.now() - startedAt;
  const abort = new UpstreamAbortSignal();
  let clientGone = false;
  const onClose = () => {
    if (ctx.res.writableFinished) return;
    clientGone = true;
    abort.abort();
  };
  ctx.res.on('close', onClose);
  // Beyond APISIX (docs/balancing.md "Timeouts"): first token, stall and the request's deadline.
  const timerSettings = { ...input.settings.attemptTimeouts, deadlineAt: input.deadlineAt };
  const timers = new AttemptTimers(timerSettings, {
    now: input.now,
    onExpire(error) {
      ctx.logger.warn(
        { instance: instance.name, route_id: ctx.routeId },
        `aborting AI request: ${error.limit} exceeded; duration_ms=${Math.floor(elapsedMs())}`,
      );
      abort.abort();
    },
  });
  const facts: AttemptFacts = { upstreamBody: undefined, usage: undefined, hasToolCalls: false, text: undefined };
  try {
    return await exchange(input, plan, { signal: abort, elapsedMs, isClientGone: () => clientGone, timers }, facts);
  } finally {
    timers.stop();
    ctx.res.off('close', onClose);
    recordLoggingEntries(ctx.logFields, input.settings.logging, { request, facts });
  }
}

/**
 * Aborts the upstream request when the client goes away or a timeout of ours passes. undici accepts an
 * EventEmitter with `aborted` as its `signal`; an AbortController per request cost about 2% of the
 * proxy's CPU.
 */
class UpstreamAbortSignal extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

interface AttemptClock {
  readonly signal: EventEmitter;
  readonly elapsedMs: () => number;
  readonly isClientGone: () => boolean;
  readonly timers: AttemptTimers;
}

/** The finished upstream request: converted and shaped body, headers, provider steps (§4.3–§4.9, §5.4). */
async function buildRequest(
  input: AttemptInput,
  plan: AttemptPlan,
): Promise<{ request: UpstreamRequestDraft; upstreamBody: JsonObject | undefined } | SwitchboardError> {
  const { request, instance } = input;
  let converted: JsonObject | undefined;
  if (plan.converter !== undefined && isJsonObject(request.body)) {
    const result = plan.converter.convertRequest(request.body);
    if (result instanceof SwitchboardError) return result;
    converted = result;
  }
  const headers = attemptUpstreamHeaders(input.requestHeaders, instance);
  plan.converter?.adjustHeaders(headers);
  const finalized = await finalizeUpstreamRequest(
    instance,
    {
      origin: plan.origin,
      path: plan.path,
      method: plan.method,
      headers,
      body: shapeUpstreamBody({ request, converted, target: plan.target, instance }),
    },
    { model: instance.model ?? request.model, streaming: request.streaming, protocol: plan.target.id },
  );
  if (finalized instanceof SwitchboardError) return finalized;
  return { request: finalized, upstreamBody: converted ?? (isJsonObject(request.body) ? request.body : undefined) };
}

async function exchange(
  input: AttemptInput,
  plan: AttemptPlan,
  attempt: AttemptClock,
  facts: AttemptFacts,
): Promise<AttemptOutcome> {
  const { ctx, instance, settings } = input;
  const built = await buildRequest(input, plan);
  if (built instanceof SwitchboardError) {
    recordTimings(ctx.logFields, { responseMs: attempt.elapsedMs() });
    return failed(built);
  }
  facts.upstreamBody = built.upstreamBody;
  let response: Dispatcher.ResponseData;
  try {
    response = await plan.dispatcher.request({
      ...built.request,
      signal: attempt.signal,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      // keepalive: false → this exchange's connection is closed afterwards (§1.1).
      reset: !settings.keepalive,
    });
  } catch (error) {
    recordTimings(ctx.logFields, { responseMs: attempt.elapsedMs() });
    if (attempt.isClientGone()) return { kind: 'client-gone' };
    if (attempt.timers.expired !== undefined) return failed(attempt.timers.expired);
    ctx.logger.warn({ err: error, instance: instance.name }, `failed to send request to LLM server: ${String(error)}`);
    return failed(classifyTransportError(error, 'send'));
  }

  const relayInput: RelayInput = {
    res: ctx.res,
    status: response.statusCode,
    headers: relayableResponseHeaders(response.headers),
    contentLength: declaredLength(response.headers['content-length']),
    body: response.body,
    target: plan.target,
    client: input.request.protocol,
    converter: plan.converter,
    limits: settings.responseLimits,
    collectText: settings.logging.payloads,
    elapsedMs: attempt.elapsedMs,
    isClientGone: attempt.isClientGone,
    watch: attempt.timers,
    warn: (message) => ctx.logger.warn({ instance: instance.name, route_id: ctx.routeId }, message),
    beforeEnd: input.onUsage,
  };
  if (isErrorPathStatus(response.statusCode, settings.errorPathStatuses))
    return readErrorPath(relayInput, attempt, ctx);
  attempt.timers.responseStarted();

  // §6.1 step 3: the upstream's content type decides, whatever the client asked for.
  const framing = streamFramingOf(String(response.headers['content-type'] ?? ''));
  const result =
    framing === undefined ? await relayWholeResponse(relayInput) : await relayEventStream(relayInput, framing);
  recordResponseFacts(ctx.logFields, result, facts);
  // Already told before the response ended, unless the client went away or the relay failed first.
  await input.onUsage?.(result.usage);
  recordTimings(ctx.logFields, { firstTokenMs: result.firstTokenMs, responseMs: attempt.elapsedMs() });
  return result.end;
}

function declaredLength(value: string | string[] | undefined): number | undefined {
  const length = typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/**
 * §6.1 step 1: a 429/5xx (or listed) answer is read whole and handed back unsent, so a fallback engine
 * can try another instance; in the client's protocol when a converter is active.
 */
async function readErrorPath(input: RelayInput, attempt: AttemptClock, ctx: RequestContext): Promise<AttemptOutcome> {
  let body: Buffer | SwitchboardError;
  try {
    body = await readCappedBody(input);
  } catch (error) {
    recordTimings(ctx.logFields, { responseMs: attempt.elapsedMs() });
    if (attempt.isClientGone()) return { kind: 'client-gone' };
    return failed(attempt.timers.expired ?? classifyTransportError(error, 'read'));
  }
  recordTimings(ctx.logFields, { firstTokenMs: attempt.elapsedMs(), responseMs: attempt.elapsedMs() });
  if (body instanceof SwitchboardError) return failed(body);
  return {
    kind: 'upstream-error',
    status: input.status,
    headers: input.headers,
    body: input.converter === undefined ? body : convertErrorBody(input.converter, input.status, body),
  };
}

function convertErrorBody(converter: ProtocolConverter, status: number, body: Buffer): Buffer {
  try {
    return Buffer.from(JSON.stringify(converter.convertResponse(status, JSON.parse(body.toString('utf8')))));
  } catch {
    return body;
  }
}
