import type { Logger } from 'pino';
import type { RuntimePluginRegistry } from '../plugins/registry.js';
import type { AttachedConsumer, ConsumerDirectory } from '../plugins/runtime-plugin.js';
import type { CollectedItem } from './resource-collections.js';
import type { ConsumerView, CredentialView } from './resource-shapes.js';

/** The auth index of one config version (admin-api.md §3.5). */
export interface ConsumerIndex extends ConsumerDirectory {
  /** Consumer etcd key → consumer, for merging a consumer's plugins into a route. */
  readonly byKey: ReadonlyMap<string, { readonly item: CollectedItem; readonly consumer: AttachedConsumer }>;
}

/**
 * Builds `credential value → consumer` per auth plugin from inline consumer confs and from
 * credentials (whose consumer is the parent consumer plus `credential_id`), in load order so the
 * last one loaded wins a duplicate. Missing values and unresolved `$env://`/`$secret://` references
 * are skipped (fail closed); a credential without its consumer is skipped with an error log.
 *
 * @example buildConsumerIndex({ consumers, credentials, uniqueAttributes: new Map([['key-auth', 'key']]), logger }).findByCredential('key-auth', 'auth-one')
 */
export function buildConsumerIndex(options: {
  readonly consumers: ReadonlyMap<string, CollectedItem>;
  readonly credentials: ReadonlyMap<string, CollectedItem>;
  /** Auth plugin name → the attribute that identifies a consumer (key-auth → `key`). */
  readonly uniqueAttributes: ReadonlyMap<string, string>;
  readonly logger: Logger;
}): ConsumerIndex {
  const byKey = new Map<string, { item: CollectedItem; consumer: AttachedConsumer }>();
  const byUsername = new Map<string, AttachedConsumer>();
  for (const item of options.consumers.values()) {
    const view = item.value as unknown as ConsumerView;
    const consumer = attached(view, item.key, undefined);
    byKey.set(item.key, { item, consumer });
    byUsername.set(consumer.username, consumer);
  }

  const byCredential = new Map<string, Map<string, AttachedConsumer>>();
  const index = (plugin: string, value: unknown, consumer: AttachedConsumer): void => {
    if (typeof value !== 'string' || value === '' || value.startsWith('$env://') || value.startsWith('$secret://'))
      return;
    const values = byCredential.get(plugin) ?? new Map<string, AttachedConsumer>();
    byCredential.set(plugin, values);
    values.set(value, consumer);
  };

  const owners = [...options.consumers.values(), ...options.credentials.values()].sort((a, b) => a.order - b.order);
  for (const item of owners) {
    const parentKey = item.resource.consumerKey;
    if (parentKey === undefined) {
      const consumer = byKey.get(item.key)?.consumer;
      if (consumer === undefined) continue;
      for (const [plugin, attribute] of options.uniqueAttributes)
        index(plugin, readAttribute(consumer.plugins[plugin], attribute), consumer);
      continue;
    }
    const parent = byKey.get(parentKey)?.consumer;
    if (parent === undefined) {
      options.logger.error({ key: item.key }, 'credential skipped: its consumer is not loaded');
      continue;
    }
    const credentialId = item.resource.id.slice(item.resource.id.lastIndexOf('/') + 1);
    const consumer: AttachedConsumer = { ...parent, credentialId };
    const plugins = (item.value as CredentialView).plugins ?? {};
    for (const [plugin, attribute] of options.uniqueAttributes)
      index(plugin, readAttribute(plugins[plugin], attribute), consumer);
  }

  return {
    byKey,
    findByCredential: (plugin, value) => byCredential.get(plugin)?.get(value),
    findByUsername: (username) => byUsername.get(username),
  };
}

function readAttribute(conf: unknown, attribute: string): unknown {
  return typeof conf === 'object' && conf !== null ? (conf as Record<string, unknown>)[attribute] : undefined;
}

function attached(view: ConsumerView, key: string, credentialId: string | undefined): AttachedConsumer {
  return {
    username: view.username,
    plugins: view.plugins ?? {},
    key,
    ...(view.labels === undefined ? {} : { labels: view.labels }),
    ...(credentialId === undefined ? {} : { credentialId }),
  };
}

/** The unique attribute of every auth plugin this data plane runs (admin-api.md §3.6). */
export function authAttributes(
  registry: RuntimePluginRegistry,
  uniqueAttributeOf: (name: string) => string | undefined,
): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const [name, plugin] of registry) {
    const attribute = uniqueAttributeOf(name);
    if (plugin.type === 'auth' && attribute !== undefined) attributes.set(name, attribute);
  }
  return attributes;
}
