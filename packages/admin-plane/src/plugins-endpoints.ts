import { findPlugin, PLUGIN_CATALOG, pluginJsonSchema } from '@switchboard/core';
import type { CrudResult } from './crud/crud-request.js';
import { adminError } from './errors.js';
import { type AdminQuery, queryValue } from './query.js';

/**
 * The read-only plugin endpoints (admin-api.md §1.1):
 * `GET /apisix/admin/plugins/list` → the names of the plugins this build ships, by priority
 * descending; `GET /apisix/admin/plugins/{name}` → the plugin's JSON schema, the consumer schema
 * with `?schema_type=consumer`.
 */
export function listPluginNames(): readonly string[] {
  return [...PLUGIN_CATALOG].sort((a, b) => b.priority - a.priority).map((plugin) => plugin.name);
}

/**
 * @example readPluginEndpoint('key-auth', { schema_type: 'consumer' }) // { status: 200, body: { type: 'object', … } }
 */
export function readPluginEndpoint(name: string | undefined, query: AdminQuery): CrudResult {
  if (name === undefined) throw adminError('SB_ADMIN_NOT_FOUND');
  if (name === 'list') return { status: 200, body: listPluginNames() };
  if (findPlugin(name) === undefined) throw adminError('SB_ADMIN_PLUGIN_NOT_FOUND');
  const schema = pluginJsonSchema(name, { consumer: queryValue(query, 'schema_type') === 'consumer' });
  if (schema === undefined) throw adminError('SB_ADMIN_PLUGIN_NOT_FOUND');
  return { status: 200, body: schema };
}
