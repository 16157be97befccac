import type { IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { DispatcherRegistry } from '../plugins/runtime-plugin.js';
import { HOP_BY_HOP } from '../upstream/headers.js';
import type { PipelineContext } from './request-context.js';
import { sendErrorMessage } from './respond.js';
import type { UpstreamTarget } from './upstream-target.js';

/** Also not forwarded upstream: `expect` (undici refuses it) and `host` (set per `pass_host`). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect', 'host']);

/** undici error codes that mean the upstream took too long (APISIX answers 504). */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The minimal plain proxy for routes with an `upstream` and no answering plugin (admin-api.md §6.6
 * step 5): picks a node, forwards the client method, path+query and headers (minus hop-by-hop, plus
 * what plugins set in `ctx.upstreamHeaders`), streams the body through, and streams the response
 * back. Connect errors answer 502, timeouts 504, as JSON.
 *
 * @example await proxyToUpstream(ctx, target, { dispatchers });
 */
export async function proxyToUpstream(
  ctx: PipelineContext,
  target: UpstreamTarget,
  deps: { readonly dispatchers: DispatcherRegistry },
): Promise<void> {
  const node = target.pickNode();
  if (node === undefined) {
    sendErrorMessage(ctx.res, 502, 'no valid upstream node');
    return;
  }
  const { req, res } = ctx;
  const headers = upstreamRequestHeaders(ctx, target.hostFor(node, req.headers.host));
  const abort = new AbortController();
  const onClientGone = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClientGone);

  let response: Dispatcher.ResponseData;
  try {
    response = await deps.dispatchers.get(node.origin, target.dispatcherOptions).request({
      origin: node.origin,
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: requestBody(ctx, headers),
      headersTimeout: target.readTimeoutMs,
      bodyTimeout: target.readTimeoutMs,
      signal: abort.signal,
    });
  } catch (error) {
    res.off('close', onClientGone);
    if (abort.signal.aborted) return;
    const code = (error as { code?: unknown }).code;
    const timedOut = typeof code === 'string' && TIMEOUT_CODES.has(code);
    ctx.logger.warn(
      {
        code: timedOut ? 'SB_ERR_UPSTREAM_TIMEOUT' : 'SB_ERR_UPSTREAM_CONNECT',
        upstream: node.origin,
        route_id: ctx.routeId,
        err: error,
      },
      'upstream request failed',
    );
    sendErrorMessage(res, timedOut ? 504 : 502, timedOut ? 'upstream timed out' : 'failed to connect to the upstream');
    return;
  }

  ctx.logFields.upstream_addr = node.hostHeader;
  ctx.logFields.upstream_status = response.statusCode;
  res.writeHead(response.statusCode, responseHeaders(response.headers));
  try {
    await pipeline(response.body, res);
  } catch (error) {
    // Client gone or upstream broke mid-body: the status is already sent, so end the connection.
    if (!abort.signal.aborted)
      ctx.logger.warn({ upstream: node.origin, route_id: ctx.routeId, err: error }, 'upstream response stream failed');
    res.destroy();
  } finally {
    res.off('close', onClientGone);
  }
}

function upstreamRequestHeaders(ctx: PipelineContext, host: string | undefined): Record<string, string | string[]> {
  const source = ctx.req.headers;
  const listed = connectionListed(source);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || NOT_FORWARDED.has(name) || listed.has(name)) continue;
    headers[name] = value;
  }
  const remoteAddr = ctx.vars.remoteAddr;
  const forwardedFor = source['x-forwarded-for'];
  headers['x-real-ip'] = remoteAddr;
  headers['x-forwarded-for'] = forwardedFor === undefined ? remoteAddr : `${String(forwardedFor)}, ${remoteAddr}`;
  headers['x-forwarded-proto'] ??= String(ctx.vars.get('scheme'));
  if (source.host !== undefined) headers['x-forwarded-host'] ??= source.host;
  headers['x-forwarded-port'] ??= String(ctx.vars.get('server_port') ?? '');
  if (host !== undefined) headers.host = host;
  for (const [name, value] of ctx.upstreamHeaders) {
    const lower = name.toLowerCase();
    if (value === undefined) delete headers[lower];
    else headers[lower] = value;
  }
  return headers;
}

/** The buffered body when a plugin or the router read it; otherwise the client stream, as it arrives. */
function requestBody(
  ctx: PipelineContext,
  headers: Record<string, string | string[]>,
): Buffer | PipelineContext['req'] | null {
  const buffered = ctx.body.buffer;
  if (buffered !== undefined) {
    delete headers['content-length'];
    return buffered;
  }
  const declared = ctx.req.headers['content-length'];
  const chunked = ctx.req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || declared === '0')) return null;
  return ctx.req;
}

function responseHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const relayed: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    relayed[name] = value;
  }
  return relayed;
}

function connectionListed(headers: Readonly<Record<string, string | string[] | undefined>>): Set<string> {
  const value = headers.connection;
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    joined
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
}
