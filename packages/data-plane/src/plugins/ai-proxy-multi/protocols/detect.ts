import type { AiProtocol, ProtocolId } from './protocol.js';
import { isJsonObject } from './protocol.js';
import { protocolModule } from './registry.js';

const isArrayOrObject = (value: unknown) => typeof value === 'object' && value !== null;

/**
 * Client protocol detection, first match wins (ai-proxy-multi.md §5.2). The path-based rules come first
 * so that, e.g., a Responses API body (`input`) is never mistaken for an embeddings request.
 * `path` is the request path without the query string.
 */
export function detectProtocolId(body: unknown, path: string): ProtocolId | undefined {
  if (!isJsonObject(body)) {
    // A non-empty JSON array is only ever passthrough; numbers, strings, booleans and null match nothing
    // (DECISIONS: a 400, never APISIX's 500).
    return Array.isArray(body) && body.length > 0 ? 'passthrough' : undefined;
  }
  if (path.endsWith('/converse') && isArrayOrObject(body.messages)) return 'bedrock-converse';
  if (path.endsWith('/v1/messages')) return 'anthropic-messages';
  if (path.endsWith('/v1/responses') && body.input !== undefined) return 'openai-responses';
  if (isArrayOrObject(body.messages)) return 'openai-chat';
  if (body.input !== undefined) return 'openai-embeddings';
  if (Object.keys(body).length > 0) return 'passthrough';
  return undefined;
}

/**
 * The protocol module for a client request, or undefined when none matches (400
 * `no matching AI protocol for the request`).
 *
 * @example
 *   detectProtocol({ messages: [] }, '/v1/chat/completions')?.id; // 'openai-chat'
 */
export function detectProtocol(body: unknown, path: string): AiProtocol | undefined {
  const id = detectProtocolId(body, path);
  return id === undefined ? undefined : protocolModule(id);
}
