import type { ResourceKind } from '@switchboard/core';

/** Where an etcd key belongs in the data plane's collections (admin-api.md §5.1, §3.4). */
export interface ResourceKey {
  readonly kind: ResourceKind;
  /**
   * The key suffix after the resource directory, which becomes `value.id` (admin-api.md §5.3):
   * `1` for `/apisix/routes/1`, `jack` for a consumer, `jack/credentials/c1` for a credential.
   */
  readonly id: string;
  /** For a credential: the etcd key of its parent consumer (`/apisix/consumers/jack`). */
  readonly consumerKey?: string;
}

const DIRECTORY_KINDS: Readonly<Record<string, ResourceKind>> = {
  routes: 'routes',
  services: 'services',
  upstreams: 'upstreams',
  consumers: 'consumers',
};

/**
 * Classifies a key under `prefix`; undefined for directories the data plane does not load
 * (`/apisix/ssls/…`, `/apisix/plugins`), for directory placeholders (`/apisix/routes/`) and for
 * anything nested deeper than APISIX stores.
 *
 * @example parseResourceKey('/apisix', '/apisix/consumers/jack/credentials/c1')
 *   // → { kind: 'credentials', id: 'jack/credentials/c1', consumerKey: '/apisix/consumers/jack' }
 */
export function parseResourceKey(prefix: string, key: string): ResourceKey | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const segments = key.slice(prefix.length + 1).split('/');
  const directory = segments[0];
  const kind = directory === undefined ? undefined : DIRECTORY_KINDS[directory];
  if (kind === undefined) return undefined;
  const first = segments[1];
  if (first === undefined || first === '') return undefined;
  if (segments.length === 2) return { kind, id: first };
  if (kind === 'consumers' && segments.length === 4 && segments[2] === 'credentials' && segments[3] !== '') {
    return { kind: 'credentials', id: segments.slice(1).join('/'), consumerKey: `${prefix}/consumers/${first}` };
  }
  return undefined;
}
