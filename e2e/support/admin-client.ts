import { request } from 'undici';
import { parseJson } from './http.js';

export interface AdminResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  readonly body: unknown;
  readonly text: string;
}

export interface AdminRequestOptions {
  /** An object is sent as JSON; a string is sent verbatim (to test bad JSON). */
  readonly body?: string | object;
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the client's key for this request; `null` sends no key at all. */
  readonly key?: string | null;
}

export type AdminMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface AdminClient {
  /** `path` is relative to `/apisix/admin` (`'/routes/1'`, `'/routes?page=1&page_size=10'`). */
  request(method: AdminMethod, path: string, options?: AdminRequestOptions): Promise<AdminResponse>;
  get(path: string, options?: AdminRequestOptions): Promise<AdminResponse>;
  put(path: string, body: string | object, options?: AdminRequestOptions): Promise<AdminResponse>;
  post(path: string, body: string | object, options?: AdminRequestOptions): Promise<AdminResponse>;
  patch(path: string, body: string | object, options?: AdminRequestOptions): Promise<AdminResponse>;
  delete(path: string, options?: AdminRequestOptions): Promise<AdminResponse>;
}

/**
 * A small Admin API client that sends `X-API-KEY` and returns status and parsed body.
 * @example
 *   const { status, body } = await admin(cp.adminUrl, cp.adminKey).put('/routes/1', { uri: '/x', plugins: {} });
 */
export function admin(baseUrl: string, key: string | undefined): AdminClient {
  const send = async (method: AdminMethod, path: string, options: AdminRequestOptions = {}): Promise<AdminResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    const effectiveKey = options.key === undefined ? key : options.key;
    if (effectiveKey !== null && effectiveKey !== undefined) headers['x-api-key'] = effectiveKey;
    const body = typeof options.body === 'object' ? JSON.stringify(options.body) : options.body;
    const response = await request(`${baseUrl}/apisix/admin${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body: parseJson(text), text };
  };
  return {
    request: send,
    get: (path, options) => send('GET', path, options),
    put: (path, body, options) => send('PUT', path, { ...options, body }),
    post: (path, body, options) => send('POST', path, { ...options, body }),
    patch: (path, body, options) => send('PATCH', path, { ...options, body }),
    delete: (path, options) => send('DELETE', path, options),
  };
}
