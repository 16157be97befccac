/** Every wire protocol ai-proxy-multi knows by name (ai-proxy-multi.md §4.1, §5.2). */
export type ProtocolId =
  | 'openai-chat'
  | 'openai-embeddings'
  | 'openai-responses'
  | 'anthropic-messages'
  | 'bedrock-converse'
  | 'vertex-predict'
  | 'passthrough';

/** A client request body that parsed as a JSON object. */
export type JsonObject = Record<string, unknown>;

/** Token counts as ai-proxy-multi.md §6.2 reads them; missing numbers are 0. */
export interface TokenUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/**
 * What the engine needs to know about one protocol: whether the client streams, how the body is
 * prepared when this is the target protocol (§4.4 step 1), and where the usage is in a response.
 * A protocol module holds no state; per-stream state lives in the relay.
 */
export interface AiProtocol {
  readonly id: ProtocolId;
  /** §5.2 "streaming when". */
  isStreaming(body: JsonObject): boolean;
  /** §4.4 step 1 on the per-attempt copy; returns true when it changed the body. */
  prepareUpstreamBody(body: JsonObject): boolean;
  /** §6.2 step 6, from a parsed non-streaming response. */
  usageFromResponse(response: unknown): TokenUsage | undefined;
  /** §6.3 step 6, from the `data` of one SSE event. */
  usageFromStreamEvent(data: string): TokenUsage | undefined;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A usage counter: JSON nulls and non-numbers count as absent (§6.2 note). */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * Usage merging across stream events (§6.3 step 6): later events overwrite only positive fields, and the
 * total is never below prompt + completion.
 */
export function mergeTokenUsage(previous: TokenUsage | undefined, next: TokenUsage): TokenUsage {
  if (previous === undefined) return next;
  const prompt = next.prompt_tokens > 0 ? next.prompt_tokens : previous.prompt_tokens;
  const completion = next.completion_tokens > 0 ? next.completion_tokens : previous.completion_tokens;
  const total = next.total_tokens > 0 ? next.total_tokens : previous.total_tokens;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: Math.max(total, prompt + completion) };
}

/** Writes an own property, so a key such as `__proto__` from config or a client never hits a setter. */
export function setOwnProperty(body: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
}
