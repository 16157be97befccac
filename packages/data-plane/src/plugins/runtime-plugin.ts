import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VarsContext } from '@switchboard/core';
import type { Logger } from 'pino';
import type { AiQuotaGate } from './ai-quota.js';

/** The consumer attached by an auth plugin (admin-api.md §3.5). */
export interface AttachedConsumer {
  readonly username: string;
  /** Set when matched through a credential. */
  readonly credentialId?: string;
  /** The consumer's own plugins (decrypted, defaulted); they replace same-named route plugins. */
  readonly plugins: Readonly<Record<string, unknown>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Etcd key of the consumer (`/apisix/consumers/jack`), used to key per-consumer state. */
  readonly key: string;
}

/** Per-request state shared by the plugins of one request. Created by the request pipeline. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Request variables: `uri`, `host`, `remote_addr`, `arg_*`, `http_*`, `cookie_*`, `post_arg.*` … */
  readonly vars: VarsContext;
  /** Path without the query string, as matched by the router. */
  readonly path: string;
  /** Etcd key of the matched route (`/apisix/routes/1`). */
  readonly routeKey: string;
  readonly routeId: string;
  readonly logger: Logger;
  consumer: AttachedConsumer | undefined;
  /** Request headers to set on the upstream request (key-auth's `X-Consumer-Username` …); undefined removes. */
  readonly upstreamHeaders: Map<string, string | undefined>;
  /** Set by ai-rate-limiting in rewrite; the AI proxies ask it before every attempt (ai-proxy-multi.md §9). */
  aiQuota: AiQuotaGate | undefined;
  /** Values for the access log line (issue 3 fills the LLM fields). */
  readonly logFields: Record<string, unknown>;
  /** Reads the whole request body once (bounded); later calls return the same buffer. */
  readBody(limitBytes: number): Promise<Buffer>;
}

/** What a phase returns: nothing to go on, or a response that ends the request. */
export type PhaseResult =
  | undefined
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> };

/**
 * Runtime half of a plugin (its schema half is the PluginDescriptor in core).
 * `prepare` runs when config changes (never per request) and returns what the phases need:
 * compiled pickers, pooled dispatchers, lookups. Phases run in priority order per phase.
 * A phase returns a PhaseResult to end the request with that response, or `'handled'` when it wrote
 * the response itself (a proxy does); the remaining phases are then skipped and `log` runs.
 */
export interface RuntimePlugin<Conf = unknown, Prepared = unknown> {
  readonly name: string;
  prepare(conf: Conf, scope: PrepareScope): Prepared;
  rewrite?(ctx: RequestContext, prepared: Prepared): Promise<PhaseResult | 'handled'> | PhaseResult | 'handled';
  access?(ctx: RequestContext, prepared: Prepared): Promise<PhaseResult | 'handled'> | PhaseResult | 'handled';
  /** After the response ended (or the client went away). Never changes the response. */
  log?(ctx: RequestContext, prepared: Prepared): void;
  /** Called when the prepared value is dropped (route deleted or changed): close pools, stop timers. */
  dispose?(prepared: Prepared): void;
}

export interface PrepareScope {
  /** Etcd key of the resource holding this plugin conf (route, service or consumer). */
  readonly holderKey: string;
  readonly logger: Logger;
  /** Shared per worker: keeps one pooled dispatcher per upstream origin across routes and config changes. */
  readonly dispatchers: DispatcherRegistry;
  /**
   * Live view of the consumers loaded on this worker (admin-api.md §3.5), for auth plugins. The same
   * object across config changes: it always answers from the latest applied config, so a prepared
   * plugin that is reused across changes never reads stale consumers. Absent in tests that need none.
   */
  readonly consumers?: ConsumerDirectory;
}

/** Auth lookups over the consumer index (admin-api.md §3.5), rebuilt once per config change. */
export interface ConsumerDirectory {
  /** The consumer whose `plugin` conf holds `value` as its unique attribute (key-auth → `key`). */
  findByCredential(plugin: string, value: string): AttachedConsumer | undefined;
  /** The consumer named `username` (key-auth's `anonymous_consumer`). */
  findByUsername(username: string): AttachedConsumer | undefined;
}

/** Pooled keep-alive undici dispatchers keyed by origin and connection options. */
export interface DispatcherRegistry {
  get(
    origin: string,
    options: {
      readonly keepAliveTimeoutMs: number;
      readonly timeoutMs: number;
      readonly rejectUnauthorized: boolean;
      /**
       * Connect to this address instead of resolving the origin's host, keeping the host as `Host` and
       * TLS server name (ai-proxy-multi.md §2.10: one resolved address of a health-checked instance).
       */
      readonly connectTo?: string | undefined;
    },
  ): import('undici').Dispatcher;
}
