import { isSwitchboardError, SwitchboardError } from '@switchboard/core';
import type { RequestContext } from '../runtime-plugin.js';
import { detectProtocol } from './protocols/detect.js';
import { type AiProtocol, isJsonObject, type JsonObject } from './protocols/protocol.js';

/** A client request that passed §5.1: read once, parsed once, protocol known. */
export interface ClientAiRequest {
  /** The bytes as the client sent them, forwarded verbatim when no shaping step changes the body (§4.4). */
  readonly raw: Buffer;
  /** The parsed body: a JSON object, or (passthrough only, §5.2 row 6) a non-empty array. */
  readonly body: JsonObject | readonly unknown[];
  readonly protocol: AiProtocol;
  /** §5.3: `ai_stream` when the client protocol's streaming rule holds. */
  readonly streaming: boolean;
  /** The client's `model` (`request_llm_model`, §4.5). */
  readonly model: string | undefined;
}

const badRequest = (message: string) => new SwitchboardError('SB_ERR_BAD_REQUEST', message);
const tooLarge = (detail: string) => new SwitchboardError('SB_ERR_BODY_TOO_LARGE', `could not get body: ${detail}`);
const sizeDetail = (size: number, max: number) =>
  `request size ${size} is greater than the maximum size ${max} allowed`;

/**
 * Validates and parses the client request in APISIX's order (ai-proxy-multi.md §5.1): content type,
 * declared size, read (bounded), empty body, JSON, protocol. Returns the typed error to answer with on
 * the first failure; a bad body is always a 4xx, never a 500 (DECISIONS).
 *
 * `ctx.readBody(max)` is expected to reject an oversized body with SB_ERR_BODY_TOO_LARGE whose message is
 * `request size <n> is greater than the maximum size <max> allowed`.
 */
export async function readClientAiRequest(
  ctx: RequestContext,
  maxBodyBytes: number,
): Promise<ClientAiRequest | SwitchboardError> {
  const contentType = ctx.req.headers['content-type'] ?? 'application/json';
  // Case-sensitive prefix test, as APISIX does.
  if (!contentType.startsWith('application/json')) {
    return badRequest(`unsupported content-type: ${contentType}, only application/json is supported`);
  }

  const declared = Number(ctx.req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(sizeDetail(declared, maxBodyBytes));

  let raw: Buffer;
  try {
    raw = await ctx.readBody(maxBodyBytes);
  } catch (error) {
    if (isSwitchboardError(error, 'SB_ERR_BODY_TOO_LARGE')) return tooLarge(error.message);
    return badRequest(`could not get body: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (raw.length > maxBodyBytes) return tooLarge(sizeDetail(raw.length, maxBodyBytes));
  if (raw.length === 0) return badRequest('could not get body: request body is empty');

  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return badRequest(`could not parse JSON request body: ${error instanceof Error ? error.message : String(error)}`);
  }

  const protocol = detectProtocol(parsed, ctx.path);
  if (protocol === undefined) return badRequest('no matching AI protocol for the request');
  if (!isJsonObject(parsed)) {
    // detectProtocol only matches a non-object for passthrough, and only a non-empty array.
    return { raw, body: parsed as readonly unknown[], protocol, streaming: false, model: undefined };
  }
  return {
    raw,
    body: parsed,
    protocol,
    streaming: protocol.isStreaming(parsed),
    model: typeof parsed.model === 'string' ? parsed.model : undefined,
  };
}
