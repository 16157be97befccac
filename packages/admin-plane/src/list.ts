import { adminError } from './errors.js';
import { type AdminQuery, parseLuaNumber, queryValue } from './query.js';
import type { V3Item } from './stored-value.js';
import { isPlainObject } from './stored-value.js';

/**
 * List filtering and paging of `GET /apisix/admin/<resource>` (admin-api.md §1.8): filters are ANDed,
 * `total` counts what the filters kept, and paging applies only when both `page` and `page_size`
 * parse as numbers.
 */
export interface ListQueryOptions {
  /** Fields `filter=k=v&…` may compare (routes: `service_id`, `upstream_id`); others are ignored. */
  readonly filterFields: readonly string[];
}

export interface ListPage {
  readonly list: readonly V3Item[];
  readonly total: number;
}

const PAGE_SIZE_MIN = 10;
const PAGE_SIZE_MAX = 500;

function compileSearch(argument: string, pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw adminError('SB_ADMIN_INVALID_ARGUMENT', `invalid argument ${argument}: ${(error as Error).message}`);
  }
}

type ItemPredicate = (item: V3Item) => boolean;

function nameFilter(pattern: string): ItemPredicate {
  const search = compileSearch('name', pattern);
  return (item) => typeof item.value.name === 'string' && search.test(item.value.name);
}

/** Matches label *keys* only; `label=` matches nothing (filter.t pins this against the docs). */
function labelFilter(label: string): ItemPredicate {
  return (item) => label !== '' && isPlainObject(item.value.labels) && Object.hasOwn(item.value.labels, label);
}

function uriFilter(pattern: string): ItemPredicate {
  const search = compileSearch('uri', pattern);
  return (item) => {
    const { uri, uris } = item.value;
    if (typeof uri === 'string' && search.test(uri)) return true;
    return Array.isArray(uris) && uris.some((entry) => typeof entry === 'string' && search.test(entry));
  };
}

function fieldFilter(encoded: string, fields: readonly string[]): ItemPredicate {
  const wanted = [...new URLSearchParams(encoded)].filter(([field]) => fields.includes(field));
  return (item) =>
    wanted.every(([field, expected]) => {
      const actual = item.value[field];
      return (typeof actual === 'string' || typeof actual === 'number') && String(actual) === expected;
    });
}

function buildPredicates(query: AdminQuery, options: ListQueryOptions): ItemPredicate[] {
  const predicates: ItemPredicate[] = [];
  const name = queryValue(query, 'name');
  const label = queryValue(query, 'label');
  const uri = queryValue(query, 'uri');
  const filter = queryValue(query, 'filter');
  if (name !== undefined) predicates.push(nameFilter(name));
  if (label !== undefined) predicates.push(labelFilter(label));
  if (uri !== undefined) predicates.push(uriFilter(uri));
  if (filter !== undefined) predicates.push(fieldFilter(filter, options.filterFields));
  return predicates;
}

function paginate(items: readonly V3Item[], query: AdminQuery): readonly V3Item[] {
  const page = parseLuaNumber(queryValue(query, 'page'));
  const pageSize = parseLuaNumber(queryValue(query, 'page_size'));
  if (page === undefined || pageSize === undefined) return items;
  if (pageSize < PAGE_SIZE_MIN || pageSize > PAGE_SIZE_MAX) {
    // DECISIONS.md: JSON instead of APISIX's plain-text body, same text.
    throw adminError('SB_ADMIN_INVALID_ARGUMENT', `page_size must be between ${PAGE_SIZE_MIN} and ${PAGE_SIZE_MAX}`);
  }
  const size = Math.floor(pageSize);
  const start = (Math.max(1, Math.floor(page)) - 1) * size;
  return [...items].sort((a, b) => a.createdIndex - b.createdIndex).slice(start, start + size);
}

/**
 * @example applyListQuery(items, { name: '^ai-', page: '1', page_size: '10' }, { filterFields: [] })
 */
export function applyListQuery(items: readonly V3Item[], query: AdminQuery, options: ListQueryOptions): ListPage {
  const predicates = buildPredicates(query, options);
  const kept = items.filter((item) => predicates.every((matches) => matches(item)));
  return { list: paginate(kept, query), total: kept.length };
}
