/**
 * The path the router matches: nginx `$uri` (admin-api.md §6.2), i.e. the request target without its
 * query string, percent-decoded, with repeated slashes merged and `.`/`..` segments resolved.
 * A malformed escape leaves the path undecoded rather than failing the request.
 *
 * @example normalizeRequestPath('/v1//chat/./completions?x=1') // → '/v1/chat/completions'
 */
export function normalizeRequestPath(requestTarget: string): string {
  const query = requestTarget.indexOf('?');
  let path = query === -1 ? requestTarget : requestTarget.slice(0, query);
  if (!path.startsWith('/')) path = `/${path}`;
  if (path.includes('%')) path = safeDecode(path);
  if (!path.includes('//') && !path.includes('/.')) return path;
  return resolveSegments(path);
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function resolveSegments(path: string): string {
  const resolved: string[] = [];
  const segments = path.split('/');
  for (let index = 1; index < segments.length; index++) {
    const segment = segments[index] ?? '';
    const last = index === segments.length - 1;
    if (segment === '..') resolved.pop();
    else if (segment !== '.' && (segment !== '' || last)) resolved.push(segment);
    if (last && (segment === '.' || segment === '..')) resolved.push('');
  }
  return `/${resolved.join('/')}`;
}
