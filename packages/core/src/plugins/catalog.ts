import { AI_AUTH_ENCRYPT_FIELDS, type AiProxyConf, AiProxySchema } from '../schema/plugins/ai-proxy.js';
import type { AiProxyMultiConf } from '../schema/plugins/ai-proxy-multi.js';
import { AI_PROXY_MULTI_ENCRYPT_FIELDS, AiProxyMultiSchema } from '../schema/plugins/ai-proxy-multi.js';
import {
  AI_RATE_LIMITING_ENCRYPT_FIELDS,
  type AiRateLimitingConf,
  AiRateLimitingSchema,
} from '../schema/plugins/ai-rate-limiting.js';
import { KeyAuthConsumerSchema, KeyAuthSchema } from '../schema/plugins/key-auth.js';
import { checkAiProxyMultiRules, checkAiProxyRules } from './ai-proxy-multi-rules.js';
import { checkAiRateLimitingRules } from './ai-rate-limiting-rules.js';
import type { PluginDescriptor } from './descriptor.js';

/** key-auth (admin-api.md §7): identifies the consumer by an API key; the key is unique and encrypted. */
const keyAuth: PluginDescriptor = {
  name: 'key-auth',
  priority: 2500,
  type: 'auth',
  schema: KeyAuthSchema,
  consumerSchema: KeyAuthConsumerSchema,
  consumerEncryptFields: ['key'],
  uniqueAttribute: 'key',
};

/** ai-proxy-multi (ai-proxy-multi.md §1): `check` receives the schema-valid, defaulted conf. */
const aiProxyMulti: PluginDescriptor = {
  name: 'ai-proxy-multi',
  priority: 1041,
  type: 'other',
  schema: AiProxyMultiSchema,
  encryptFields: AI_PROXY_MULTI_ENCRYPT_FIELDS,
  check: (conf) => checkAiProxyMultiRules(conf as AiProxyMultiConf),
};

/** ai-proxy (ai-proxy-multi.md §1.2, §1.11): one upstream, never retried; runs after ai-proxy-multi. */
const aiProxy: PluginDescriptor = {
  name: 'ai-proxy',
  priority: 1040,
  type: 'other',
  schema: AiProxySchema,
  encryptFields: AI_AUTH_ENCRYPT_FIELDS,
  check: (conf) => checkAiProxyRules(conf as AiProxyConf),
};

/**
 * ai-rate-limiting (admin-api.md §8): token quotas per AI instance, on routes, services and consumers;
 * runs after ai-proxy-multi and ai-proxy picked the instance.
 */
const aiRateLimiting: PluginDescriptor = {
  name: 'ai-rate-limiting',
  priority: 1030,
  type: 'other',
  schema: AiRateLimitingSchema,
  encryptFields: AI_RATE_LIMITING_ENCRYPT_FIELDS,
  check: (conf) => checkAiRateLimitingRules(conf as AiRateLimitingConf),
};

/** Every plugin this build ships, sorted by priority descending (the order phases run them in, §6.7). */
export const PLUGIN_CATALOG: readonly PluginDescriptor[] = [keyAuth, aiProxyMulti, aiProxy, aiRateLimiting].sort(
  (left, right) => right.priority - left.priority,
);

export function findPlugin(name: string): PluginDescriptor | undefined {
  return PLUGIN_CATALOG.find((plugin) => plugin.name === name);
}

/**
 * The plain JSON Schema of a plugin for the Admin API's plugin-schema endpoint (TypeBox's symbol
 * keys stripped). `consumer: true` asks for the consumer schema, which only auth plugins have;
 * undefined when the plugin or that schema does not exist.
 *
 * @example pluginJsonSchema('key-auth', { consumer: true }) // { type: 'object', properties: { key: … }, required: ['key'] }
 */
export function pluginJsonSchema(
  name: string,
  options: { readonly consumer?: boolean } = {},
): Record<string, unknown> | undefined {
  const plugin = findPlugin(name);
  const schema = options.consumer === true ? plugin?.consumerSchema : plugin?.schema;
  return schema === undefined ? undefined : (JSON.parse(JSON.stringify(schema)) as Record<string, unknown>);
}
