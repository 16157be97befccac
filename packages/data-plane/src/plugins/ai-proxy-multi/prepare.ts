import {
  compileFallbackPolicy,
  createInstanceBalancer,
  type FallbackPolicy,
  type HashKeyRule,
  type HealthLookup,
  type InstanceBalancer,
} from '@switchboard/core';
import type { Dispatcher } from 'undici';
import { type InstanceHealthBoard, instanceHealthKey, NO_HEALTH_BOARD } from '../../health/health-board.js';
import { scopeWithHealthyTargets } from '../../health/target-dispatch.js';
import type { PrepareScope } from '../runtime-plugin.js';
import { prepareRequestFinalizer, type RequestFinalizer } from './auth/finalize-request.js';
import type { ProviderAuthRuntime } from './auth/provider-auth-runtime.js';
import { prepareWithSecretRefs } from './auth/secret-refs.js';
import type { AiProxyMultiConf, AiProxyMultiInstanceConf } from './conf.js';
import { type PassthroughTarget, resolvePassthroughTarget, resolveUpstreamLocation } from './endpoint.js';
import type { LlmLogging } from './log-fields.js';
import type { ProtocolId } from './protocols/protocol.js';
import { nativeProtocols, type ProviderDescriptor } from './providers/provider.js';
import { findProvider } from './providers/registry.js';
import type { ResponseLimits } from './relay.js';
import { type BodyShaping, prepareBodyShaping } from './shape-body.js';

/** Where and how one instance is called for one protocol; `ok: false` fails the attempt like a connect error. */
export type PreparedLocation =
  | { readonly ok: true; readonly origin: string; readonly pathAndQuery: string; readonly dispatcher: Dispatcher }
  | { readonly ok: false; readonly reason: string };

/** Where a passthrough request goes (§4.2, §5.5); its path and query are built per request (endpoint.ts). */
export type PreparedPassthrough =
  | (Extract<PassthroughTarget, { ok: true }> & { readonly dispatcher: Dispatcher })
  | Extract<PassthroughTarget, { ok: false }>;

export interface PreparedInstance {
  readonly name: string;
  readonly providerId: string;
  /** Undefined when this build does not ship the configured provider yet. */
  readonly provider: ProviderDescriptor | undefined;
  /** One entry per protocol the provider speaks natively (§4.6 rule 1). */
  readonly locations: ReadonlyMap<ProtocolId, PreparedLocation>;
  /** `auth.header` with lower-cased names, overlaid on the client's headers (§4.3). */
  readonly authHeaders: Readonly<Record<string, string>>;
  /** `options`, merged into the body key by key (§4.4 step 2). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The effective model when configured (`options.model`, §4.5). */
  readonly model: string | undefined;
  /** Provider steps on the finished request: model-dependent path, GCP token, SigV4 (auth/finalize-request.ts). */
  readonly finalizer: RequestFinalizer;
  /** The `override` fields that shape the body (§4.4 steps 3–4). */
  readonly shaping: BodyShaping;
  readonly passthrough: PreparedPassthrough;
}

/** How instances are picked and replaced for this conf (ai-proxy-multi.md §2, §3, §7). */
export interface PreparedSelection {
  /** Shared by every request of the holder, so the round-robin position advances across requests. */
  readonly balancer: InstanceBalancer;
  /** chash only: where each request's key comes from (§2.5). */
  readonly hashRule: HashKeyRule | undefined;
  /** This conf's instances in the node's health (§2.6); everything healthy without checks. */
  readonly health: HealthLookup;
  readonly fallback: FallbackPolicy;
  /** `fallback_http_statuses`: error-path statuses besides 429 and 5xx (§6.1 step 1). */
  readonly errorPathStatuses: ReadonlySet<number>;
  /** Where passive observations go, by instance name; undefined when `passive_health` is off. */
  readonly passiveHealth:
    | { readonly board: InstanceHealthBoard; readonly keys: ReadonlyMap<string, string> }
    | undefined;
  /** Beyond APISIX: `X-AI-Instance` and `X-AI-Attempts` response headers. */
  readonly attemptHeaders: boolean;
}

export interface PreparedAiProxyMulti extends PreparedSelection {
  readonly instances: ReadonlyMap<string, PreparedInstance>;
  readonly maxRequestBodyBytes: number;
  /** Per socket operation (§1.1): connect, headers, each gap between body chunks. */
  readonly timeoutMs: number;
  readonly keepalive: boolean;
  /** `max_response_bytes`, `max_stream_duration_ms` (§6.2, §6.3). */
  readonly responseLimits: ResponseLimits;
  /** Beyond APISIX: `first_token_timeout_ms` and `stall_timeout_ms` per attempt (attempt-timers.ts); undefined = off. */
  readonly attemptTimeouts: {
    readonly firstTokenTimeoutMs: number | undefined;
    readonly stallTimeoutMs: number | undefined;
  };
  /** Beyond APISIX: `request_deadline_ms`, across the attempts of one request; undefined = off. */
  readonly requestDeadlineMs: number | undefined;
  /** `logging` (§8.2), defaulted. */
  readonly logging: LlmLogging;
}

function lowerCaseNames(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const lowered: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) lowered[name.toLowerCase()] = value;
  return lowered;
}

function prepareLocation(
  provider: ProviderDescriptor,
  protocol: ProtocolId,
  instance: AiProxyMultiInstanceConf,
  conf: AiProxyMultiConf,
  scope: PrepareScope,
): PreparedLocation {
  const location = resolveUpstreamLocation({
    provider,
    protocol,
    endpoint: instance.override?.endpoint,
    authQuery: instance.auth.query,
    providerConf: instance.provider_conf,
  });
  if (!location.ok) return location;
  return { ...location, dispatcher: dispatcherFor(location.origin, conf, scope) };
}

/** The pooled dispatcher of an origin with the plugin's connection settings (§6.5). */
function dispatcherFor(origin: string, conf: AiProxyMultiConf, scope: PrepareScope): Dispatcher {
  return scope.dispatchers.get(origin, {
    keepAliveTimeoutMs: conf.keepalive_timeout,
    timeoutMs: conf.timeout,
    rejectUnauthorized: conf.ssl_verify,
  });
}

function preparePassthrough(
  provider: ProviderDescriptor,
  instance: AiProxyMultiInstanceConf,
  conf: AiProxyMultiConf,
  scope: PrepareScope,
): PreparedPassthrough {
  const target = resolvePassthroughTarget({
    provider,
    endpoint: instance.override?.endpoint,
    authQuery: instance.auth.query,
    providerConf: instance.provider_conf,
  });
  if (!target.ok) return target;
  return { ...target, dispatcher: dispatcherFor(target.origin, conf, scope) };
}

function prepareInstance(
  instance: AiProxyMultiInstanceConf,
  conf: AiProxyMultiConf,
  scope: PrepareScope,
  providerAuth: ProviderAuthRuntime,
): PreparedInstance {
  const provider = findProvider(instance.provider);
  const locations = new Map<ProtocolId, PreparedLocation>();
  if (provider !== undefined) {
    for (const protocol of nativeProtocols(provider))
      locations.set(protocol, prepareLocation(provider, protocol, instance, conf, scope));
  }
  const options = instance.options ?? {};
  return {
    name: instance.name,
    providerId: instance.provider,
    provider,
    locations,
    authHeaders: lowerCaseNames(instance.auth.header),
    options,
    model: typeof options.model === 'string' ? options.model : undefined,
    finalizer: prepareRequestFinalizer({ instance, provider, conf, scope, runtime: providerAuth }),
    shaping: prepareBodyShaping(instance.override),
    passthrough:
      provider === undefined
        ? { ok: false, reason: `ai provider: ${instance.provider} is not supported.` }
        : preparePassthrough(provider, instance, conf, scope),
  };
}

/**
 * The selection half of the conf (ai-proxy-multi.md §2, §3): the priority-tiered balancer (round robin
 * or chash; random starts drawn here), the compiled fallback policy, and this conf's view of the node's
 * health, keyed like the health service keys it (`instanceHealthKey(holderKey, name)`).
 */
function prepareSelection(
  conf: AiProxyMultiConf,
  holderKey: string,
  deps: { readonly random: () => number; readonly health?: InstanceHealthBoard | undefined },
): PreparedSelection {
  const board = deps.health ?? NO_HEALTH_BOARD;
  const keys = new Map(conf.instances.map((instance) => [instance.name, instanceHealthKey(holderKey, instance.name)]));
  const algorithm = conf.balancer?.algorithm === 'chash' ? 'chash' : 'roundrobin';
  const fallback = compileFallbackPolicy(conf, { instanceCount: conf.instances.length });
  return {
    balancer: createInstanceBalancer({
      algorithm,
      instances: conf.instances.map((instance) => ({
        name: instance.name,
        weight: instance.weight,
        priority: instance.priority ?? 0,
      })),
      random: deps.random,
    }),
    hashRule:
      algorithm === 'chash' ? { hash_on: conf.balancer?.hash_on ?? 'vars', key: conf.balancer?.key } : undefined,
    health: {
      version: board.version,
      isHealthy: (name) => board.isHealthy(keys.get(name) ?? instanceHealthKey(holderKey, name)),
    },
    fallback,
    errorPathStatuses: fallback.httpStatuses,
    passiveHealth: conf.passive_health === undefined || conf.instances.length < 2 ? undefined : { board, keys },
    attemptHeaders: conf.attempt_headers === true,
  };
}

/**
 * Everything a request needs that depends only on the conf (ai-proxy-multi.md §2.3, §4.2, §6.5): the
 * selection (balancer, fallback policy, health view), and per instance its resolved URLs, pooled
 * dispatcher, lower-cased auth headers and options.
 *
 * @example
 *   const prepared = prepareAiProxyMulti(conf, scope, { random: Math.random, providerAuth: createProviderAuthRuntime({}) });
 *   prepared.balancer.pick({ tried: new Set() }, { health: prepared.health }); // an instance name
 */
export function prepareAiProxyMulti(
  conf: AiProxyMultiConf,
  scope: PrepareScope,
  deps: {
    readonly random: () => number;
    readonly providerAuth: ProviderAuthRuntime;
    /** The node's instance health; everything healthy when absent. */
    readonly health?: InstanceHealthBoard | undefined;
  },
): PreparedAiProxyMulti {
  const instances = new Map(
    conf.instances.map((instance) => [
      instance.name,
      // §1.5: `$env://` references in `auth` resolve here; one that does not disables only its instance.
      prepareWithSecretRefs(instance, { env: deps.providerAuth.env, scope }, (resolved) =>
        // §2.10: a checked instance connects to one healthy address of its host per request.
        prepareInstance(resolved, conf, scopeWithHealthyTargets(scope, resolved, deps), deps.providerAuth),
      ),
    ]),
  );
  return {
    ...prepareSelection(conf, scope.holderKey, deps),
    instances,
    maxRequestBodyBytes: conf.max_req_body_size,
    timeoutMs: conf.timeout,
    keepalive: conf.keepalive,
    responseLimits: { maxResponseBytes: conf.max_response_bytes, maxStreamDurationMs: conf.max_stream_duration_ms },
    attemptTimeouts: { firstTokenTimeoutMs: conf.first_token_timeout_ms, stallTimeoutMs: conf.stall_timeout_ms },
    requestDeadlineMs: conf.request_deadline_ms,
    logging: { summaries: conf.logging?.summaries === true, payloads: conf.logging?.payloads === true },
  };
}
