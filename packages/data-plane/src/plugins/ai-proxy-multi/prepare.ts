import { createPriorityPicker, createWeightedRoundRobinPicker, type Picker } from '@switchboard/core';
import type { Dispatcher } from 'undici';
import type { PrepareScope } from '../runtime-plugin.js';
import type { AiProxyMultiConf, AiProxyMultiInstanceConf } from './conf.js';
import { resolveUpstreamLocation } from './endpoint.js';
import type { ProtocolId } from './protocols/protocol.js';
import { nativeProtocols, type ProviderDescriptor } from './providers/provider.js';
import { findProvider } from './providers/registry.js';

/** Where and how one instance is called for one protocol; `ok: false` fails the attempt like a connect error. */
export type PreparedLocation =
  | { readonly ok: true; readonly origin: string; readonly pathAndQuery: string; readonly dispatcher: Dispatcher }
  | { readonly ok: false; readonly reason: string };

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
}

export interface PreparedAiProxyMulti {
  /** Shared by every request of the holder, so the round-robin position advances across requests. */
  readonly picker: Picker;
  readonly instances: ReadonlyMap<string, PreparedInstance>;
  readonly maxRequestBodyBytes: number;
  /** Per socket operation (§1.1): connect, headers, each gap between body chunks. */
  readonly timeoutMs: number;
  readonly keepalive: boolean;
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
  });
  if (!location.ok) return location;
  const dispatcher = scope.dispatchers.get(location.origin, {
    keepAliveTimeoutMs: conf.keepalive_timeout,
    timeoutMs: conf.timeout,
    rejectUnauthorized: conf.ssl_verify,
  });
  return { ...location, dispatcher };
}

function prepareInstance(
  instance: AiProxyMultiInstanceConf,
  conf: AiProxyMultiConf,
  scope: PrepareScope,
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
  };
}

/**
 * Everything a request needs that depends only on the conf (ai-proxy-multi.md §2.3, §4.2, §6.5): the
 * priority-tiered weighted round-robin picker (random start drawn here, once), and per instance its
 * resolved URLs, pooled dispatcher, lower-cased auth headers and options.
 *
 * @example
 *   const prepared = prepareAiProxyMulti(conf, scope, { random: Math.random });
 *   prepared.picker.pick({ tried: new Set() }); // an instance name
 */
export function prepareAiProxyMulti(
  conf: AiProxyMultiConf,
  scope: PrepareScope,
  deps: { readonly random: () => number },
): PreparedAiProxyMulti {
  const instances = new Map(conf.instances.map((instance) => [instance.name, prepareInstance(instance, conf, scope)]));
  const picker = createPriorityPicker(
    conf.instances.map((instance) => ({
      name: instance.name,
      weight: instance.weight,
      priority: instance.priority ?? 0,
    })),
    (tier) => createWeightedRoundRobinPicker(tier, deps),
  );
  return {
    picker,
    instances,
    maxRequestBodyBytes: conf.max_req_body_size,
    timeoutMs: conf.timeout,
    keepalive: conf.keepalive,
  };
}
