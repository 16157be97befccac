/**
 * Splits an admin URL into resource, id and sub-path the way APISIX's admin router does
 * (admin-api.md §1.5): split on `/`, drop trailing empty segments, then `[resource]/[id]/[sub/path]`.
 * `/apisix/admin/consumers/{username}/credentials[/{id}]` addresses the credential sub-resource.
 */
export interface AdminPath {
  /** The resource segment as written (`routes`, `routs`, …); undefined for `/apisix/admin/`. */
  readonly resource: string | undefined;
  readonly id: string | undefined;
  /** Segments after the id, joined by `/` (PATCH `/routes/1/upstream/nodes`). */
  readonly subPath: string | undefined;
  /** The consumer username a credential belongs to. */
  readonly parent: string | undefined;
}

const ADMIN_SEGMENTS = 3; // '', 'apisix', 'admin'

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function joinOrUndefined(segments: readonly string[]): string | undefined {
  return segments.length === 0 ? undefined : segments.join('/');
}

/**
 * @example parseAdminPath('/apisix/admin/routes/1/methods?x=1')
 *   // { resource: 'routes', id: '1', subPath: 'methods', parent: undefined }
 */
export function parseAdminPath(url: string): AdminPath {
  const pathname = url.split('?', 1)[0] ?? '';
  const segments = pathname.split('/').map(decodeSegment);
  while (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  const [resource, id, ...rest] = segments.slice(ADMIN_SEGMENTS);
  if (resource === 'consumers' && rest[0] === 'credentials') {
    const [, credentialId, ...credentialRest] = rest;
    return { resource: 'credentials', id: credentialId, subPath: joinOrUndefined(credentialRest), parent: id };
  }
  return { resource, id, subPath: joinOrUndefined(rest), parent: undefined };
}
