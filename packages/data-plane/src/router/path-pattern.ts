/**
 * One `uri`/`uris` entry of a route, classified the way `radixtree_host_uri` stores it
 * (admin-api.md §6.2): an exact path, or a literal prefix ending at the first `*`, with a full-path
 * regex when the `*` is not the last character or names a parameter (`/foo/*action`).
 * `:param` segments are literal in the default router.
 */
export type PathPattern =
  | { readonly kind: 'exact'; readonly path: string }
  | { readonly kind: 'prefix'; readonly prefix: string; readonly fullMatch: RegExp | undefined };

/**
 * @example parsePathPattern('/v1/*')     // → { kind: 'prefix', prefix: '/v1/', fullMatch: undefined }
 * @example parsePathPattern('/a/*x/b')   // → { kind: 'prefix', prefix: '/a/', fullMatch: a regex for '/a/(.*)/b' }
 */
export function parsePathPattern(uri: string): PathPattern {
  const star = uri.indexOf('*');
  if (star === -1) return { kind: 'exact', path: uri };
  const prefix = uri.slice(0, star);
  if (star === uri.length - 1) return { kind: 'prefix', prefix, fullMatch: undefined };
  const source = uri
    .split(/\*[^/]*/)
    .map(escapeRegExp)
    .join('(.*)');
  return { kind: 'prefix', prefix, fullMatch: new RegExp(`^${source}$`) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
