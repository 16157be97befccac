import type { IncomingMessage } from 'node:http';
import { SwitchboardError } from '@switchboard/core';

/**
 * Reads a request body at most once, bounded. A declared `Content-Length` over the limit is refused
 * before reading; a chunked body is refused as soon as it passes the limit. The error message is the
 * part after `could not get body: ` in APISIX's 413 (ai-proxy-multi.md §5.1).
 *
 * @example const body = createRequestBody(req); await body.read(1024 * 1024);
 */
export class RequestBody {
  readonly #req: IncomingMessage;
  #reading: Promise<Buffer> | undefined;
  #buffer: Buffer | undefined;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  /** True once reading started: the body can no longer be streamed upstream as it arrives. */
  get started(): boolean {
    return this.#reading !== undefined;
  }

  /** The whole body when it has been read. */
  get buffer(): Buffer | undefined {
    return this.#buffer;
  }

  read(limitBytes: number): Promise<Buffer> {
    if (this.#buffer !== undefined) {
      return this.#buffer.length > limitBytes
        ? Promise.reject(tooLarge(this.#buffer.length, limitBytes))
        : Promise.resolve(this.#buffer);
    }
    if (this.#reading === undefined) {
      const declared = Number(this.#req.headers['content-length']);
      if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(declared, limitBytes));
      const whole = takeBufferedBody(this.#req, declared, limitBytes);
      if (whole !== undefined) {
        this.#buffer = whole;
        this.#reading = Promise.resolve(whole);
        return this.#reading;
      }
      this.#reading = collect(this.#req, limitBytes).then((buffer) => {
        this.#buffer = buffer;
        return buffer;
      });
    }
    return this.#reading.then((buffer) =>
      buffer.length > limitBytes ? Promise.reject(tooLarge(buffer.length, limitBytes)) : buffer,
    );
  }
}

export function tooLarge(size: number, limit: number): SwitchboardError {
  return new SwitchboardError(
    'SB_ERR_BODY_TOO_LARGE',
    `request size ${size} is greater than the maximum size ${limit} allowed`,
  );
}

const EMPTY = Buffer.alloc(0);

/**
 * The whole body in one synchronous read, when all of it is already buffered and nobody has read from
 * the stream yet: the usual case, a chat request arrives in the same segment as its headers. Waiting
 * for 'data' and 'end' instead costs several ticks through the stream machinery on the way to the first
 * token. All of it is there once the parser has seen the end of the message (`complete`, which Node
 * sets only a turn of the event loop later) or the bytes buffered reach the declared Content-Length
 * (the parser never buffers beyond it). Undefined when the body is still arriving or is over the
 * limit: `collect` handles those, with its error wording.
 */
function takeBufferedBody(req: IncomingMessage, declared: number, limitBytes: number): Buffer | undefined {
  const untouched = !req.readableDidRead && req.readableFlowing === null && req.readableEncoding === null;
  const buffered = req.readableLength;
  if (!untouched || !(req.complete || buffered === declared) || buffered > limitBytes) return undefined;
  // Paused and without a decoder, read() hands over everything buffered as one Buffer.
  const body = buffered === 0 ? EMPTY : (req.read() as Buffer | null);
  // Flowing from here on, so 'end' is still emitted when the parser reaches the end of the message:
  // the server releases the request on it.
  req.resume();
  return body ?? undefined;
}

function collect(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        // Drain the rest so the connection stays usable for the error response.
        req.resume();
        reject(tooLarge(size, limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new Error('client closed the connection before sending the whole body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
