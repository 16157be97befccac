import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { SwitchboardError } from '@switchboard/core';
import type { HeaderMap } from '../../upstream/headers.js';
import { classifyTransportError } from '../../upstream/transport-error.js';
import { openAiErrorBody } from './gateway-error.js';
import { type AiProtocol, mergeTokenUsage, type TokenUsage } from './protocols/protocol.js';
import { createSseEventSplitter } from './sse/sse-event-splitter.js';

/**
 * How a relay ended. `failed` means nothing was sent yet, so it can still be answered (or, later, fallen
 * back from); `broken-stream` means the stream already reached the client and was ended with an error event.
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
}

export interface RelayInput {
  readonly res: ServerResponse;
  readonly status: number;
  /** Upstream headers already filtered for relaying (DECISIONS). */
  readonly headers: HeaderMap;
  readonly body: Readable;
  readonly protocol: AiProtocol;
  readonly elapsedMs: () => number;
  readonly isClientGone: () => boolean;
  /** Called when the leftover of an unterminated SSE event was dropped. */
  readonly onSseOverflow: () => void;
}

/** §6.3 step 5: a partial event larger than this is dropped from the usage parser (never from the stream). */
const MAX_PENDING_SSE_CHARS = 1024 * 1024;

/** Reads a whole upstream body; the caller turns a failure into the attempt's outcome. */
export async function readWholeBody(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readFailure(error: unknown, input: RelayInput): RelayEnd {
  return input.isClientGone()
    ? { kind: 'client-gone' }
    : { kind: 'failed', error: classifyTransportError(error, 'read') };
}

/**
 * Non-streaming relay (ai-proxy-multi.md §6.2): the body is read whole (usage needs all of it), then
 * sent byte for byte with the upstream status; a body that is not JSON is relayed just the same.
 */
export async function relayWholeResponse(input: RelayInput): Promise<RelayResult> {
  let bytes: Buffer;
  try {
    bytes = await readWholeBody(input.body);
  } catch (error) {
    return { end: readFailure(error, input), usage: undefined, firstTokenMs: undefined };
  }
  const firstTokenMs = input.elapsedMs();
  if (input.res.destroyed) return { end: { kind: 'client-gone' }, usage: undefined, firstTokenMs };
  input.res.writeHead(input.status, { ...input.headers, 'content-length': String(bytes.length) });
  input.res.end(bytes);
  return { end: { kind: 'relayed' }, usage: usageOfJson(bytes, input.protocol), firstTokenMs };
}

function usageOfJson(bytes: Buffer, protocol: AiProtocol): TokenUsage | undefined {
  try {
    return protocol.usageFromResponse(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Resolves when the client can take more, or has gone (then the upstream is being aborted). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streaming relay (ai-proxy-multi.md §6.3, DECISIONS "Beyond APISIX"): every upstream chunk is written to
 * the client as it arrives, waiting for `drain` when the client is slower (back-pressure reaches the
 * upstream socket through the paused body). A copy goes through the SSE splitter for usage. The status
 * line is held back until the first chunk, so a failure before any byte can still be answered cleanly.
 * After bytes were sent a broken upstream ends the stream with an in-band OpenAI-shaped error event and
 * no `[DONE]`: never a truncated stream that looks complete.
 */
export async function relayEventStream(input: RelayInput): Promise<RelayResult> {
  const { res } = input;
  let usage: TokenUsage | undefined;
  let firstTokenMs: number | undefined;
  const splitter = createSseEventSplitter({
    maxPendingChars: MAX_PENDING_SSE_CHARS,
    onEvent: (event) => {
      const eventUsage = input.protocol.usageFromStreamEvent(event.data);
      if (eventUsage !== undefined) usage = mergeTokenUsage(usage, eventUsage);
    },
    onOverflow: input.onSseOverflow,
  });

  try {
    for await (const chunk of input.body) {
      const bytes = chunk as Buffer;
      if (firstTokenMs === undefined) {
        firstTokenMs = input.elapsedMs();
        res.writeHead(input.status, input.headers);
      }
      splitter.push(bytes);
      if (!res.write(bytes) && !res.destroyed) await drainedOrClosed(res);
      if (input.isClientGone()) return { end: { kind: 'client-gone' }, usage, firstTokenMs };
    }
  } catch (error) {
    const end = readFailure(error, input);
    if (end.kind !== 'failed' || firstTokenMs === undefined) return { end, usage, firstTokenMs };
    res.end(`data: ${JSON.stringify(openAiErrorBody(end.error))}\n\n`);
    return { end: { kind: 'broken-stream', error: end.error }, usage, firstTokenMs };
  }
  if (firstTokenMs === undefined) res.writeHead(input.status, input.headers);
  res.end();
  return { end: { kind: 'relayed' }, usage, firstTokenMs };
}
