import {
  type ActiveCheckSpec,
  type AiInstanceConf,
  type AiProxyMultiConf,
  type PassiveHealthConf,
  type ProbeEndpoint,
  resolveActiveCheck,
} from '@switchboard/core';
import type { CollectionsView } from '../config/resource-collections.js';
import { defaultHostOf } from '../plugins/ai-proxy-multi/providers/provider.js';
import { findProvider } from '../plugins/ai-proxy-multi/providers/registry.js';
import { instanceHealthKey } from './health-board.js';

/** What the node must watch: active probes and passive-health confs, by instance health key. */
export interface HealthWatchList {
  readonly active: ReadonlyMap<string, ActiveCheckSpec>;
  readonly passive: ReadonlyMap<string, PassiveHealthConf>;
}

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/**
 * Where an instance is reached (§7.2): `override.endpoint`'s origin, else the provider's default host
 * over https. Undefined when neither exists (openai-compatible without an endpoint): nothing to probe.
 */
export function instanceProbeEndpoint(instance: AiInstanceConf): ProbeEndpoint | undefined {
  const endpoint = instance.override?.endpoint;
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      const scheme = url.protocol === 'https:' ? 'https' : 'http';
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      return { scheme, host, port: url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port) };
    } catch {
      return undefined;
    }
  }
  const provider = findProvider(instance.provider);
  const host = provider === undefined ? undefined : defaultHostOf(provider, instance.provider_conf);
  return host === undefined ? undefined : { scheme: 'https', host, port: DEFAULT_PORTS.https };
}

function pluginConfOf(value: Readonly<Record<string, unknown>>): AiProxyMultiConf | undefined {
  const plugins = value.plugins as Readonly<Record<string, unknown>> | undefined;
  const conf = plugins?.['ai-proxy-multi'] as AiProxyMultiConf | undefined;
  if (conf === undefined || conf._meta?.disable === true) return undefined;
  // §2.1: one instance is picked unconditionally and semantic picks by meaning: neither uses health.
  if (conf.instances.length < 2 || conf.balancer?.algorithm === 'semantic') return undefined;
  return conf;
}

/**
 * Every ai-proxy-multi conf of the loaded routes, services and consumers, turned into the node's health
 * work (ai-proxy-multi.md §7.1): one active check per instance with `checks.active`, one passive entry per
 * instance of a conf with `passive_health`. Keys follow `instanceHealthKey(<holder key>, <name>)`, the
 * key the plugin reads with.
 *
 * @example watchListFromConfig(collections.view()).active.get('/apisix/routes/1#gpt-4')
 */
export function watchListFromConfig(view: CollectionsView): HealthWatchList {
  const active = new Map<string, ActiveCheckSpec>();
  const passive = new Map<string, PassiveHealthConf>();
  for (const collection of [view.routes, view.services, view.consumers]) {
    for (const item of collection.values()) {
      const conf = pluginConfOf(item.value);
      if (conf === undefined) continue;
      for (const instance of conf.instances) {
        const key = instanceHealthKey(item.key, instance.name);
        if (conf.passive_health !== undefined) passive.set(key, conf.passive_health);
        const checks = instance.checks?.active;
        const endpoint = checks === undefined ? undefined : instanceProbeEndpoint(instance);
        if (checks === undefined || endpoint === undefined) continue;
        active.set(key, resolveActiveCheck(checks, endpoint, instance.auth));
      }
    }
  }
  return { active, passive };
}
