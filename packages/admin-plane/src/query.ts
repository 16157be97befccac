import { adminError } from './errors.js';

/** The parsed query string as Fastify hands it over: repeated arguments become arrays. */
export type AdminQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A single argument; for a repeated one the first occurrence counts. */
export function queryValue(query: AdminQuery, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' ? value : value?.[0];
}

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const HEXADECIMAL = /^\s*[+-]?0[xX][0-9a-fA-F]+\s*$/;

/** Lua's `tonumber` on a query argument, which is how APISIX decides that `ttl`/`page` "are numbers". */
export function parseLuaNumber(text: string | undefined): number | undefined {
  if (text === undefined || !(DECIMAL.test(text) || HEXADECIMAL.test(text))) return undefined;
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  const unsigned = trimmed.replace(/^[+-]/, '');
  const value = /^0[xX]/.test(unsigned) ? Number.parseInt(unsigned.slice(2), 16) : Number(unsigned);
  return negative ? -value : value;
}

/**
 * `?ttl=` (admin-api.md §1.5): checked for every method before the handler runs; a positive number
 * binds the write to a lease of that many seconds.
 */
export function parseTtl(query: AdminQuery): number | undefined {
  const text = queryValue(query, 'ttl');
  if (text === undefined) return undefined;
  const ttl = parseLuaNumber(text);
  if (ttl === undefined) throw adminError('SB_ADMIN_INVALID_ARGUMENT', 'invalid argument ttl: should be a number');
  return ttl > 0 ? ttl : undefined;
}
