import type { ServerResponse } from 'node:http';

/**
 * Writes a gateway-made response. An object body is JSON plus a newline with `application/json`
 * (APISIX's `core.response.exit`, admin-api.md preamble); a string or Buffer is sent as is.
 */
export function sendResponse(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const payload = encodeBody(body);
  res.statusCode = status;
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (payload.contentType !== undefined && !res.hasHeader('content-type'))
    res.setHeader('content-type', payload.contentType);
  res.setHeader('content-length', payload.bytes.length);
  res.end(payload.bytes);
}

/** `{"error_msg": message}` — the shape of core gateway errors (DECISIONS). */
export function sendErrorMessage(res: ServerResponse, status: number, message: string): void {
  sendResponse(res, status, { error_msg: message });
}

function encodeBody(body: unknown): { readonly bytes: Buffer; readonly contentType: string | undefined } {
  if (body === undefined || body === null) return { bytes: EMPTY, contentType: undefined };
  if (Buffer.isBuffer(body)) return { bytes: body, contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { bytes: Buffer.from(body), contentType: 'text/plain; charset=utf-8' };
  return { bytes: Buffer.from(`${JSON.stringify(body)}\n`), contentType: 'application/json' };
}

const EMPTY = Buffer.alloc(0);
