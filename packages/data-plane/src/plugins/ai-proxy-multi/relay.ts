import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { SwitchboardError } from '@switchboard/core';
import type { HeaderMap } from '../../upstream/headers.js';
import { classifyTransportError } from '../../upstream/transport-error.js';
import type { BodyWatch } from './attempt-timers.js';
import type { ProtocolConverter } from './convert/converter.js';
import type { AiProtocol, TokenUsage } from './protocols/protocol.js';
import { streamLimitError } from './sse/stream-limits.js';

/**
 * How a relay ended. `failed` means nothing was sent yet, so it can still be answered (or fallen back
 * from); `broken-stream` means the stream already reached the client and was ended with an error event.
 */
export type RelayEnd =
  | { readonly kind: 'relayed' }
  | { readonly kind: 'client-gone' }
  | { readonly kind: 'failed'; readonly error: SwitchboardError }
  | { readonly kind: 'broken-stream'; readonly error: SwitchboardError };

export interface RelayResult {
  readonly end: RelayEnd;
  readonly usage: TokenUsage | undefined;
  /** ms from attempt start to the first body bytes (streaming) or the whole body (non-streaming). */
  readonly firstTokenMs: number | undefined;
  readonly hasToolCalls: boolean;
  /** `llm_response_text`, when asked for. */
  readonly text: string | undefined;
}

/** `max_response_bytes` and `max_stream_duration_ms` (ai-proxy-multi.md §1.1); undefined = no cap. */
export interface ResponseLimits {
  readonly maxResponseBytes: number | undefined;
  readonly maxStreamDurationMs: number | undefined;
}

export interface RelayInput {
  readonly res: ServerResponse;
  readonly status: number;
  /** Upstream headers already filtered for relaying (DECISIONS). */
  readonly headers: HeaderMap;
  /** The upstream's declared `Content-Length`, for the §6.2 precheck. */
  readonly contentLength: number | undefined;
  readonly body: Readable;
  /** The protocol the upstream answered in: it reads usage, text and tool calls (§6.2, §6.3 step 6). */
  readonly target: AiProtocol;
  /** The client's protocol: its in-band error event ends a stream broken after the first byte. */
  readonly client: AiProtocol;
  /** Translates the answer to the client's protocol, when the instance speaks another (§4.6). */
  readonly converter: ProtocolConverter | undefined;
  readonly limits: ResponseLimits;
  /** Keep the response text for `logging.payloads` (§8.2); costs a parse of every stream event. */
  readonly collectText: boolean;
  readonly elapsedMs: () => number;
  readonly isClientGone: () => boolean;
  /** The attempt's first-token, stall and deadline timers (attempt-timers.ts): told of every chunk. */
  readonly watch: BodyWatch;
  /** Operational warnings: caps hit (§8.3 wording), event parsing problems. */
  readonly warn: (message: string) => void;
  /**
   * Awaited with the answer's usage just before the client's response ends, so a token quota is settled
   * before the client can send its next request (ai-rate-limiting, reserve-then-settle).
   */
  readonly beforeEnd?: ((usage: TokenUsage | undefined) => Promise<void> | undefined) | undefined;
}

const NO_FACTS = { usage: undefined, hasToolCalls: false, text: undefined } as const;

/**
 * A failed read of the upstream body: the client left, one of the attempt's timeouts aborted it, or a
 * transport error (§3.2).
 */
export function readFailure(error: unknown, input: Pick<RelayInput, 'isClientGone' | 'watch'>): RelayEnd {
  if (input.isClientGone()) return { kind: 'client-gone' };
  return { kind: 'failed', error: input.watch.expired ?? classifyTransportError(error, 'read') };
}

/** A whole body, or how many bytes were read when it passed `maxBytes` (the body is then destroyed). */
export async function readBoundedBody(
  body: Readable,
  maxBytes: number | undefined,
  watch?: BodyWatch,
): Promise<{ readonly bytes: Buffer } | { readonly tooLargeAfter: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    watch?.chunk();
    size += (chunk as Buffer).length;
    if (maxBytes !== undefined && size > maxBytes) {
      body.destroy();
      return { tooLargeAfter: size };
    }
    chunks.push(chunk as Buffer);
  }
  return { bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) };
}

/**
 * Reads a whole body under `max_response_bytes` (ai-proxy-multi.md §6.2 step 1): the declared
 * Content-Length is checked before reading, the running total while reading. Over the cap → the 502
 * `max_response_bytes exceeded` failure, with APISIX's log line.
 */
export async function readCappedBody(
  input: Pick<RelayInput, 'body' | 'contentLength' | 'limits' | 'warn' | 'watch'>,
): Promise<Buffer | SwitchboardError> {
  const max = input.limits.maxResponseBytes;
  if (max !== undefined && input.contentLength !== undefined && input.contentLength > max) {
    input.body.destroy();
    input.warn(`aborting AI response: Content-Length ${input.contentLength} exceeds max_response_bytes ${max}`);
    return streamLimitError('max_response_bytes');
  }
  const read = await readBoundedBody(input.body, max, input.watch);
  if ('bytes' in read) return read.bytes;
  input.warn(`aborting AI response: body size exceeds max_response_bytes ${max} (read ${read.tooLargeAfter} bytes)`);
  return streamLimitError('max_response_bytes');
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Non-streaming relay (ai-proxy-multi.md §6.2): the body is read whole under `max_response_bytes`
 * (usage needs all of it), then sent byte for byte with the upstream status, or re-encoded in the
 * client's protocol when a converter is active. A body that is not JSON is relayed unchanged.
 */
export async function relayWholeResponse(input: RelayInput): Promise<RelayResult> {
  let bytes: Buffer | SwitchboardError;
  try {
    bytes = await readCappedBody(input);
  } catch (error) {
    return { end: readFailure(error, input), firstTokenMs: undefined, ...NO_FACTS };
  }
  const firstTokenMs = input.elapsedMs();
  if (bytes instanceof SwitchboardError) return { end: { kind: 'failed', error: bytes }, firstTokenMs, ...NO_FACTS };
  const parsed = parseJson(bytes);
  const facts = parsed === undefined ? NO_FACTS : input.target.readResponse(parsed, { collectText: input.collectText });
  let out = bytes;
  if (input.converter !== undefined && parsed !== undefined) {
    out = Buffer.from(JSON.stringify(input.converter.convertResponse(input.status, parsed)));
  }
  if (input.res.destroyed) return { end: { kind: 'client-gone' }, firstTokenMs, ...facts };
  await input.beforeEnd?.(facts.usage);
  if (input.res.destroyed) return { end: { kind: 'client-gone' }, firstTokenMs, ...facts };
  input.res.writeHead(input.status, { ...input.headers, 'content-length': String(out.length) });
  input.res.end(out);
  return { end: { kind: 'relayed' }, firstTokenMs, ...facts };
}
