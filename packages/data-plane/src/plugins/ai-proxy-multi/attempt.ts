import { EventEmitter } from 'node:events';
import { SwitchboardError } from '@switchboard/core';
import type { Dispatcher } from 'undici';
import { type HeaderMap, relayableResponseHeaders } from '../../upstream/headers.js';
import { classifyTransportError } from '../../upstream/transport-error.js';
import type { RequestContext } from '../runtime-plugin.js';
import { finalizeUpstreamRequest } from './auth/finalize-request.js';
import type { ClientAiRequest } from './client-request.js';
import { recordAttemptStart, recordTimings, recordUsage } from './log-fields.js';
import type { PreparedAiProxyMulti, PreparedInstance, PreparedLocation } from './prepare.js';
import { type RelayEnd, readWholeBody, relayEventStream, relayWholeResponse } from './relay.js';
import { shapeUpstreamBody } from './shape-body.js';
import { attemptUpstreamHeaders } from './upstream-headers.js';

/**
 * What one attempt came to. `upstream-error` (429/5xx, §6.1 step 1) and `failed` (transport or build
 * errors, §3.2) have sent nothing to the client: a fallback engine can wrap `runAttempt` and try another
 * instance on them; without one the caller answers with them.
 */
export type AttemptOutcome =
  | RelayEnd
  | { readonly kind: 'upstream-error'; readonly status: number; readonly headers: HeaderMap; readonly body: Buffer };

export interface AttemptInput {
  readonly ctx: RequestContext;
  readonly request: ClientAiRequest;
  readonly instance: PreparedInstance;
  readonly settings: Pick<PreparedAiProxyMulti, 'timeoutMs' | 'keepalive'>;
  /** Client headers plus `ctx.upstreamHeaders`, computed once per request. */
  readonly requestHeaders: HeaderMap;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

/** §6.1 step 1: these statuses take the error path (read whole, nothing relayed yet). */
function isErrorPathStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

type ReadyLocation = Extract<PreparedLocation, { ok: true }>;

/** The instance's location for the client's protocol, or the failure to answer with (§3.2, §4.6, §4.7). */
function locate(instance: PreparedInstance, request: ClientAiRequest): ReadyLocation | AttemptOutcome {
  if (instance.provider === undefined) {
    return {
      kind: 'failed',
      error: new SwitchboardError('SB_ERR_UPSTREAM_CONNECT', `ai provider: ${instance.providerId} is not supported.`),
    };
  }
  const location = instance.locations.get(request.protocol.id);
  if (location === undefined) {
    const supported = [...instance.locations.keys()].join(', ');
    const message = `provider ${instance.providerId} does not support ${request.protocol.id} protocol (supported: ${supported})`;
    return { kind: 'failed', error: new SwitchboardError('SB_ERR_BAD_REQUEST', message) };
  }
  if (!location.ok) {
    return {
      kind: 'failed',
      error: new SwitchboardError(
        'SB_ERR_UPSTREAM_CONNECT',
        `failed to send request to LLM server: ${location.reason}`,
      ),
    };
  }
  return location;
}

/**
 * One HTTP exchange with one instance (ai-proxy-multi.md §3–§6): shape the body, POST it through the
 * instance's pooled dispatcher with per-operation timeouts, then relay the answer. A client that goes
 * away aborts the upstream request at once. Never retries; fills the per-attempt log fields.
 *
 * @example
 *   const outcome = await runAttempt({ ctx, request, instance, settings: prepared, requestHeaders, now: performance.now.bind(performance) });
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptOutcome> {
  const { ctx, request, instance } = input;
  recordAttemptStart(ctx.logFields, { instanceName: instance.name, model: instance.model ?? request.model });
  const location = locate(instance, request);
  if ('kind' in location) return location;
  if (ctx.res.destroyed) return { kind: 'client-gone' };

  const startedAt = input.now();
  const elapsedMs = () => input.now() - startedAt;
  const abort = new ClientGoneSignal();
  const onClose = () => {
    if (!ctx.res.writableFinished) abort.abort();
  };
  ctx.res.on('close', onClose);
  try {
    return await exchange(input, location, { signal: abort, elapsedMs, isClientGone: () => abort.aborted });
  } finally {
    ctx.res.off('close', onClose);
  }
}

/**
 * Aborts the upstream request when the client goes away. undici accepts an EventEmitter with
 * `aborted` as its `signal`; an AbortController per request cost about 2% of the proxy's CPU.
 */
class ClientGoneSignal extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

async function exchange(
  input: AttemptInput,
  location: ReadyLocation,
  attempt: { readonly signal: EventEmitter; readonly elapsedMs: () => number; readonly isClientGone: () => boolean },
): Promise<AttemptOutcome> {
  const { ctx, request, instance, settings } = input;
  const authorized = await finalizeUpstreamRequest(
    instance,
    {
      origin: location.origin,
      path: location.pathAndQuery,
      method: 'POST',
      headers: attemptUpstreamHeaders(input.requestHeaders, instance),
      body: shapeUpstreamBody(request, instance),
    },
    { model: instance.model ?? request.model, streaming: request.streaming },
  );
  if (authorized instanceof SwitchboardError) {
    recordTimings(ctx.logFields, { responseMs: attempt.elapsedMs() });
    return { kind: 'failed', error: authorized };
  }
  let response: Dispatcher.ResponseData;
  try {
    response = await location.dispatcher.request({
      ...authorized,
      signal: attempt.signal,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      // keepalive: false → this exchange's connection is closed afterwards (§1.1).
      reset: !settings.keepalive,
    });
  } catch (error) {
    recordTimings(ctx.logFields, { responseMs: attempt.elapsedMs() });
    if (attempt.isClientGone()) return { kind: 'client-gone' };
    ctx.logger.warn({ err: error, instance: instance.name }, `failed to send request to LLM server: ${String(error)}`);
    return { kind: 'failed', error: classifyTransportError(error, 'send') };
  }

  const headers = relayableResponseHeaders(response.headers);
  if (isErrorPathStatus(response.statusCode)) {
    try {
      const body = await readWholeBody(response.body);
      recordTimings(ctx.logFields, { firstTokenMs: attempt.elapsedMs(), responseMs: attempt.elapsedMs() });
      return { kind: 'upstream-error', status: response.statusCode, headers, body };
    } catch (error) {
      recordTimings(ctx.logFields, { responseMs: attempt.elapsedMs() });
      return attempt.isClientGone()
        ? { kind: 'client-gone' }
        : { kind: 'failed', error: classifyTransportError(error, 'read') };
    }
  }

  // §6.1 step 3: the upstream's content type decides, whatever the client asked for.
  const streaming = String(response.headers['content-type'] ?? '').includes('text/event-stream');
  const relay = streaming ? relayEventStream : relayWholeResponse;
  const result = await relay({
    res: ctx.res,
    status: response.statusCode,
    headers,
    body: response.body,
    protocol: request.protocol,
    elapsedMs: attempt.elapsedMs,
    isClientGone: attempt.isClientGone,
    onSseOverflow: () =>
      ctx.logger.warn({ instance: instance.name }, 'SSE event larger than 1 MiB dropped from usage parsing'),
  });
  recordUsage(ctx.logFields, result.usage);
  recordTimings(ctx.logFields, { firstTokenMs: result.firstTokenMs, responseMs: attempt.elapsedMs() });
  return result.end;
}
