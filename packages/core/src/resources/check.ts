/**
 * STUB (helper core-schemas replaces it). Store-independent checks of one resource body, in APISIX's
 * order (admin-api.md §2.3, §3.2, §3.3, §4). `message` is the complete `error_msg`.
 * `mode: 'admin'` is strict; `mode: 'data-plane'` skips unknown plugins (returned in `skippedPlugins`).
 */
export type ResourceKind = 'routes' | 'services' | 'upstreams' | 'consumers' | 'credentials';

export type ResourceCheckResult =
  | { readonly ok: true; readonly value: Record<string, unknown>; readonly skippedPlugins: readonly string[] }
  | { readonly ok: false; readonly message: string };

export function checkResource(
  _kind: ResourceKind,
  _body: unknown,
  _options: { readonly mode: 'admin' | 'data-plane' },
): ResourceCheckResult {
  return { ok: false, message: 'not implemented yet' };
}
