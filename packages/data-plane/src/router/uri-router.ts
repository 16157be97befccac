import { type PathPattern, parsePathPattern } from './path-pattern.js';
import { type CandidateVerdict, NEEDS_BODY } from './verdict.js';

/** One path of one route, as inserted into a URI router. */
export interface UriEntry<T> {
  readonly uri: string;
  readonly priority: number;
  /** Insertion order: etcd key order at full load, appended for later additions (admin-api.md §6.2). */
  readonly order: number;
  readonly target: T;
}

interface Candidate<T> extends UriEntry<T> {
  readonly fullMatch: RegExp | undefined;
}

export interface UriRouter<T> {
  /**
   * The first candidate whose path matches and whose `test` passes: exact paths first, then prefixes
   * longest first; within one path key, candidates in priority order (admin-api.md §6.2 step 3).
   */
  match(path: string, test: (target: T) => CandidateVerdict): T | typeof NEEDS_BODY | undefined;
}

/** @example createUriRouter([{ uri: '/v1/*', priority: 0, order: 0, target: route }]).match('/v1/x', () => true) */
export function createUriRouter<T>(entries: readonly UriEntry<T>[]): UriRouter<T> {
  const exact = new Map<string, Candidate<T>[]>();
  const prefixes = new Map<string, Candidate<T>[]>();
  for (const entry of entries) {
    const pattern: PathPattern = parsePathPattern(entry.uri);
    const table = pattern.kind === 'exact' ? exact : prefixes;
    const pathKey = pattern.kind === 'exact' ? pattern.path : pattern.prefix;
    const fullMatch = pattern.kind === 'exact' ? undefined : pattern.fullMatch;
    const list = table.get(pathKey) ?? [];
    list.push({ ...entry, fullMatch });
    table.set(pathKey, list);
  }
  for (const list of [...exact.values(), ...prefixes.values()]) list.sort(compareCandidates);
  // Longest prefix first: look a path's prefixes up by each distinct prefix length, descending.
  const prefixLengths = [...new Set([...prefixes.keys()].map((prefix) => prefix.length))].sort((a, b) => b - a);

  return {
    match(path, test) {
      const exactCandidates = exact.get(path);
      if (exactCandidates !== undefined) {
        const found = firstPassing(exactCandidates, path, test);
        if (found !== undefined) return found;
      }
      for (const length of prefixLengths) {
        if (length > path.length) continue;
        const candidates = prefixes.get(path.slice(0, length));
        if (candidates === undefined) continue;
        const found = firstPassing(candidates, path, test);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
}

function firstPassing<T>(
  candidates: readonly Candidate<T>[],
  path: string,
  test: (target: T) => CandidateVerdict,
): T | typeof NEEDS_BODY | undefined {
  for (const candidate of candidates) {
    if (candidate.fullMatch !== undefined && !candidate.fullMatch.test(path)) continue;
    const verdict = test(candidate.target);
    if (verdict === NEEDS_BODY) return NEEDS_BODY;
    if (verdict) return candidate.target;
  }
  return undefined;
}

/** Priority descending, then the longer original path, then insertion order (admin-api.md §6.2). */
function compareCandidates<T>(a: Candidate<T>, b: Candidate<T>): number {
  return b.priority - a.priority || b.uri.length - a.uri.length || a.order - b.order;
}
