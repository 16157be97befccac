import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { VarsContext } from '@switchboard/core';
import { readJsonPath } from './json-path.js';

/**
 * The request variables of one request (admin-api.md §6.4), computed lazily: a route without `vars`
 * never parses the query, cookies or body. `post_arg.*` reads the JSON body, which the pipeline
 * loads before matching routes that need it (`setBody`).
 *
 * @example new RequestVars(req, '/v1/chat').get('http_x_api_key')
 */
export class RequestVars implements VarsContext {
  readonly path: string;
  readonly method: string;
  /** `$host`: Host header lowercased, port stripped (admin-api.md §6.2). */
  readonly host: string;
  /** The whole Host header lowercased. */
  readonly hostHeader: string;
  #remoteAddr: string | undefined;
  #query: URLSearchParams | undefined;
  #cookies: Map<string, string> | undefined;
  #body: Buffer | undefined;
  #json: unknown;
  #jsonParsed = false;
  #form: URLSearchParams | undefined;
  readonly #req: IncomingMessage;

  constructor(req: IncomingMessage, path: string) {
    this.#req = req;
    this.path = path;
    this.method = req.method ?? 'GET';
    this.hostHeader = (req.headers.host ?? '').toLowerCase();
    this.host = stripPort(this.hostHeader);
  }

  get bodyLoaded(): boolean {
    return this.#body !== undefined;
  }

  setBody(body: Buffer): void {
    this.#body = body;
  }

  get remoteAddr(): string {
    this.#remoteAddr ??= unmapIpv4(this.#req.socket.remoteAddress ?? '');
    return this.#remoteAddr;
  }

  get(name: string): unknown {
    switch (name) {
      case 'uri':
        return this.path;
      case 'host':
        return this.host;
      case 'request_method':
        return this.method;
      case 'remote_addr':
        return this.remoteAddr;
      case 'remote_port':
        return this.#req.socket.remotePort === undefined ? undefined : String(this.#req.socket.remotePort);
      case 'scheme':
        return (this.#req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
      case 'server_addr':
        return unmapIpv4(this.#req.socket.localAddress ?? '');
      case 'server_port':
        return this.#req.socket.localPort === undefined ? undefined : String(this.#req.socket.localPort);
      case 'request_uri':
        return this.#req.url;
      case 'args':
        return queryString(this.#req.url ?? '');
      case 'is_args':
        return queryString(this.#req.url ?? '') === '' ? '' : '?';
    }
    return this.#prefixed(name);
  }

  #prefixed(name: string): unknown {
    if (name.startsWith('http_')) return joinHeader(this.#req.headers[name.slice(5).replaceAll('_', '-')]);
    if (name.startsWith('arg_')) return this.#queryParams().get(name.slice(4)) ?? undefined;
    if (name.startsWith('cookie_')) return this.#cookieMap().get(name.slice(7));
    if (name.startsWith('post_arg.'))
      return this.#jsonBody() === undefined ? undefined : readJsonPath(this.#json, name.slice(9));
    if (name.startsWith('post_arg_')) return this.#formBody()?.get(name.slice(9)) ?? undefined;
    return undefined;
  }

  #queryParams(): URLSearchParams {
    this.#query ??= new URLSearchParams(queryString(this.#req.url ?? ''));
    return this.#query;
  }

  #cookieMap(): Map<string, string> {
    this.#cookies ??= parseCookies(joinHeader(this.#req.headers.cookie) ?? '');
    return this.#cookies;
  }

  /** The parsed JSON body; only for a JSON content type, like APISIX (admin-api.md §6.4). */
  #jsonBody(): unknown {
    if (!this.#jsonParsed && this.#body !== undefined) {
      this.#jsonParsed = true;
      if (contentTypeStartsWith(this.#req, 'application/json')) this.#json = parseJson(this.#body);
    }
    return this.#json;
  }

  #formBody(): URLSearchParams | undefined {
    if (
      this.#form === undefined &&
      this.#body !== undefined &&
      contentTypeStartsWith(this.#req, 'application/x-www-form-urlencoded')
    ) {
      this.#form = new URLSearchParams(this.#body.toString('utf8'));
    }
    return this.#form;
  }
}

function stripPort(hostHeader: string): string {
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end === -1 ? hostHeader : hostHeader.slice(0, end + 1);
  }
  const colon = hostHeader.indexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so IPv4 rules match on dual-stack sockets. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function queryString(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index + 1);
}

function joinHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function parseCookies(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, pair.slice(eq + 1).trim());
  }
  return cookies;
}

function contentTypeStartsWith(req: IncomingMessage, type: string): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith(type);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
