import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adminError, MAX_ADMIN_BODY_BYTES } from './errors.js';

/**
 * What the body parser hands to the handler: the raw bytes, or only the size when the body is over
 * the limit. Decoding waits for the handler because APISIX resolves the resource and method before it
 * reads the body (admin-api.md §1.5), so `POST /apisix/admin/routs` with bad JSON is still a 404.
 */
export type RawAdminBody =
  | { readonly kind: 'received'; readonly bytes: Buffer }
  | { readonly kind: 'too-large'; readonly size: number };

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** Reads the payload, keeping at most the limit in memory; a longer body is only counted. */
function readLimited(payload: Readable, done: (error: Error | null, body?: RawAdminBody) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  payload.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_ADMIN_BODY_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  });
  payload.once('error', (error: Error) => done(error));
  payload.once('end', () => {
    done(
      null,
      size > MAX_ADMIN_BODY_BYTES ? { kind: 'too-large', size } : { kind: 'received', bytes: Buffer.concat(chunks) },
    );
  });
}

/**
 * Makes every admin body reach the handler as raw bytes, whatever its Content-Type says (APISIX's
 * tests send JSON as `application/x-www-form-urlencoded`). The Content-Type is dropped up front so a
 * malformed one cannot turn into a 415 either.
 */
export function registerRawBodyParser(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    delete request.raw.headers['content-type'];
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const length = declaredLength(request);
    if (length !== undefined && length > MAX_ADMIN_BODY_BYTES) {
      // APISIX reports the declared size without reading the body; discard it so the socket stays usable.
      payload.resume();
      done(null, { kind: 'too-large', size: length } satisfies RawAdminBody);
      return;
    }
    readLimited(payload, done);
  });
}

function isRawAdminBody(body: unknown): body is RawAdminBody {
  return typeof body === 'object' && body !== null && 'kind' in body;
}

/**
 * Decodes the parsed body: `undefined` when there is none (an empty body counts as "no
 * configuration"), the JSON value otherwise.
 * @example decodeAdminBody({ kind: 'received', bytes: Buffer.from('{"uri":"/a"}') }) // { uri: '/a' }
 */
export function decodeAdminBody(body: unknown): unknown {
  if (!isRawAdminBody(body)) return undefined;
  if (body.kind === 'too-large') throw adminError('SB_ADMIN_BODY_TOO_LARGE', body.size);
  if (body.bytes.length === 0) return undefined;
  const text = body.bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw adminError('SB_ADMIN_BODY_NOT_JSON', (error as Error).message, text);
  }
}
