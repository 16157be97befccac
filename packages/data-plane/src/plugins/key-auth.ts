import type { ConsumerDirectory, PhaseResult, RequestContext, RuntimePlugin } from './runtime-plugin.js';

/** key-auth's route/service conf after defaults (admin-api.md §7). */
interface KeyAuthConf {
  readonly header?: string;
  readonly query?: string;
  readonly realm?: string;
  readonly hide_credentials?: boolean;
  readonly anonymous_consumer?: string;
}

interface PreparedKeyAuth {
  /** Lower-cased: Node lower-cases request header names. */
  readonly header: string;
  readonly query: string;
  readonly challenge: string;
  readonly hideCredentials: boolean;
  readonly anonymousConsumer: string | undefined;
  readonly consumers: ConsumerDirectory | undefined;
}

const MISSING_KEY = 'Missing API key in request';
const INVALID_KEY = 'Invalid API key in request';
const INVALID_USER = 'Invalid user authorization';

/**
 * key-auth (admin-api.md §7): reads the key from the `header` (first value), else the `query` arg,
 * looks it up in the consumer index (§3.5) and attaches the consumer, or answers 401 with
 * `WWW-Authenticate: apikey realm="<realm>"`. With `anonymous_consumer` a failure continues as that
 * consumer instead. The `X-Consumer-*` upstream headers are always overwritten, so a client cannot
 * forge them.
 */
export const keyAuthPlugin: RuntimePlugin<KeyAuthConf, PreparedKeyAuth> = {
  name: 'key-auth',

  prepare(conf, scope) {
    return {
      header: (conf.header ?? 'apikey').toLowerCase(),
      query: conf.query ?? 'apikey',
      challenge: `apikey realm="${conf.realm ?? 'key'}"`,
      hideCredentials: conf.hide_credentials ?? false,
      anonymousConsumer: conf.anonymous_consumer,
      consumers: scope.consumers,
    };
  },

  rewrite(ctx, prepared) {
    const fromHeader = ctx.req.headersDistinct[prepared.header]?.[0];
    const fromQuery = fromHeader === undefined ? queryArg(ctx.req.url ?? '', prepared.query) : undefined;
    const key = fromHeader ?? fromQuery;
    const consumer = key === undefined ? undefined : prepared.consumers?.findByCredential('key-auth', key);

    if (consumer !== undefined) {
      if (prepared.hideCredentials) {
        if (fromHeader !== undefined) hideHeader(ctx, prepared.header);
        else hideQueryArg(ctx, prepared.query);
      }
      attachConsumer(ctx, consumer);
      return undefined;
    }

    const reason = key === undefined ? MISSING_KEY : INVALID_KEY;
    if (key !== undefined) ctx.logger.info({ route_id: ctx.routeId }, 'key-auth: no consumer has this key');
    if (prepared.anonymousConsumer === undefined) return unauthorized(prepared, reason);
    if (prepared.hideCredentials) {
      hideHeader(ctx, prepared.header);
      hideQueryArg(ctx, prepared.query);
    }
    const anonymous = prepared.consumers?.findByUsername(prepared.anonymousConsumer);
    if (anonymous === undefined) {
      ctx.logger.warn(
        { route_id: ctx.routeId, anonymous_consumer: prepared.anonymousConsumer },
        'key-auth: anonymous consumer not found',
      );
      return unauthorized(prepared, INVALID_USER);
    }
    attachConsumer(ctx, anonymous);
    return undefined;
  },
};

function unauthorized(prepared: PreparedKeyAuth, message: string): PhaseResult {
  return { status: 401, body: { message }, headers: { 'WWW-Authenticate': prepared.challenge } };
}

/** §7 step 7: the consumer's identity goes upstream; a header with no value is removed. */
function attachConsumer(ctx: RequestContext, consumer: NonNullable<RequestContext['consumer']>): void {
  ctx.consumer = consumer;
  ctx.upstreamHeaders.set('X-Consumer-Username', consumer.username);
  ctx.upstreamHeaders.set('X-Credential-Identifier', consumer.credentialId);
  ctx.upstreamHeaders.set('X-Consumer-Custom-ID', consumer.labels?.custom_id);
}

function queryArg(url: string, name: string): string | undefined {
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  return new URLSearchParams(url.slice(start + 1)).get(name) ?? undefined;
}

function hideHeader(ctx: RequestContext, header: string): void {
  delete ctx.req.headers[header];
  ctx.upstreamHeaders.set(header, undefined);
}

/** Rewrites the request target without the arg, as APISIX's set_uri_args does; later plugins and the upstream see it. */
function hideQueryArg(ctx: RequestContext, name: string): void {
  const url = ctx.req.url ?? '';
  const start = url.indexOf('?');
  if (start === -1) return;
  const params = new URLSearchParams(url.slice(start + 1));
  if (!params.has(name)) return;
  params.delete(name);
  const rest = params.toString();
  ctx.req.url = rest === '' ? url.slice(0, start) : `${url.slice(0, start)}?${rest}`;
}
