import type { SwitchboardError } from '@switchboard/core';
import type { SseEvent } from '../sse/sse-event-splitter.js';

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
  readonly cache_read_input_tokens: number;
  readonly cache_creation_input_tokens: number;
  readonly reasoning_tokens: number;
}

/** What a whole (non-streaming) response says beyond its bytes (§6.2 steps 6–8). */
export interface ResponseFacts {
  readonly usage: TokenUsage | undefined;
  /** `llm_response_text`; only read when asked for (payload logging). */
  readonly text: string | undefined;
  readonly hasToolCalls: boolean;
}

/**
 * Reads the events of one upstream stream in this protocol (§6.3 step 6). Created per stream: it holds
 * the usage merged so far and, when asked to, the text deltas. It never changes what is relayed.
 */
export interface StreamObserver {
  /** False when no event can change what the observer reports (the relay then skips event parsing). */
  readonly wantsEvents: boolean;
  onEvent(event: SseEvent): void;
  readonly usage: TokenUsage | undefined;
  readonly hasToolCalls: boolean;
  /** The concatenated text deltas, when `collectText` was asked for. */
  readonly text: string | undefined;
}

/**
 * What the engine needs to know about one wire protocol: detection's streaming rule, how the body is
 * prepared when this is the target protocol (§4.4 step 1), where usage, text and tool calls sit in a
 * response (§6.2, §6.3), what the log records of a request (§8), and how a stream broken after its
 * first byte is ended honestly (DECISIONS "Honest streams"). A protocol module holds no state.
 */
export interface AiProtocol {
  readonly id: ProtocolId;
  /** §5.2 "streaming when". */
  isStreaming(body: JsonObject): boolean;
  /** §4.4 step 1 on the per-attempt copy; returns true when it changed the body. */
  prepareUpstreamBody(body: JsonObject): boolean;
  /** §6.2 steps 6–8 from a parsed response body. */
  readResponse(response: unknown, options: { readonly collectText: boolean }): ResponseFacts;
  createStreamObserver(options: { readonly collectText: boolean }): StreamObserver;
  /** §8.2 `llm_request.messages`: what the client asked, or undefined (passthrough). */
  requestContent(body: JsonObject): unknown;
  /** §8.1 `llm_end_user_id`. */
  endUserId(body: JsonObject): string | undefined;
  /**
   * The in-band event that ends a stream of this protocol broken after the first byte, with no terminal
   * event after it; undefined when the framing cannot carry one (the connection is then cut).
   */
  streamErrorEvent(error: SwitchboardError): string | undefined;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A usage counter: JSON nulls and non-numbers count as absent (§6.2 note). */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** The counter at `object[key]`, 0 when `object` is not an object. */
export function tokenCountAt(object: unknown, key: string): number {
  return isJsonObject(object) ? tokenCount(object[key]) : 0;
}

/** A usage record with the total defaulted to prompt + completion (§6.2 "or p+c"). */
export function tokenUsage(counts: Partial<TokenUsage>): TokenUsage {
  const prompt = counts.prompt_tokens ?? 0;
  const completion = counts.completion_tokens ?? 0;
  const total = counts.total_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total > 0 ? total : prompt + completion,
    cache_read_input_tokens: counts.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: counts.cache_creation_input_tokens ?? 0,
    reasoning_tokens: counts.reasoning_tokens ?? 0,
  };
}

const pick = (next: number, previous: number) => (next > 0 ? next : previous);

/**
 * Usage merging across stream events (§6.3 step 6): the first record is taken as is, later ones
 * overwrite only positive fields, and the total is never below prompt + completion.
 */
export function mergeTokenUsage(previous: TokenUsage | undefined, next: TokenUsage): TokenUsage {
  if (previous === undefined) return next;
  const prompt = pick(next.prompt_tokens, previous.prompt_tokens);
  const completion = pick(next.completion_tokens, previous.completion_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: Math.max(pick(next.total_tokens, previous.total_tokens), prompt + completion),
    cache_read_input_tokens: pick(next.cache_read_input_tokens, previous.cache_read_input_tokens),
    cache_creation_input_tokens: pick(next.cache_creation_input_tokens, previous.cache_creation_input_tokens),
    reasoning_tokens: pick(next.reasoning_tokens, previous.reasoning_tokens),
  };
}

/** Writes an own property, so a key such as `__proto__` from config or a client never hits a setter. */
export function setOwnProperty(body: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses an event's JSON data; undefined when it is not a JSON object. */
export function parseEventJson(data: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The strings among `values`, joined by one space (how §6.2 step 7 joins response texts). */
export function joinTexts(values: readonly unknown[]): string | undefined {
  const texts = values.filter((value): value is string => typeof value === 'string');
  return texts.length === 0 ? undefined : texts.join(' ');
}

/** `value` when it is a string. */
export function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `value` as an array (empty for anything else). */
export function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * A stream observer over one per-event handler: keeps the merged usage, the tool-call flag and (when
 * asked) the text, so each protocol only says where those are in its events.
 *
 * @example
 *   new EventTally({ collectText: false }, (event, tally) => tally.addText(event.data));
 */
export class EventTally implements StreamObserver {
  readonly wantsEvents = true;
  usage: TokenUsage | undefined = undefined;
  hasToolCalls = false;
  private readonly texts: string[] | undefined;
  private readonly handle: (event: SseEvent, tally: EventTally) => void;

  constructor(options: { readonly collectText: boolean }, handle: (event: SseEvent, tally: EventTally) => void) {
    this.texts = options.collectText ? [] : undefined;
    this.handle = handle;
  }

  get text(): string | undefined {
    return this.texts?.join('');
  }

  /** Whether text deltas are kept; a protocol may skip parsing events that only carry text otherwise. */
  get collectsText(): boolean {
    return this.texts !== undefined;
  }

  addText(text: unknown): void {
    if (typeof text === 'string') this.texts?.push(text);
  }

  addUsage(usage: TokenUsage): void {
    this.usage = mergeTokenUsage(this.usage, usage);
  }

  onEvent(event: SseEvent): void {
    this.handle(event, this);
  }
}

/** The observer of a protocol whose responses say nothing the log reads (passthrough). */
export const SILENT_OBSERVER: StreamObserver = {
  wantsEvents: false,
  onEvent() {},
  usage: undefined,
  hasToolCalls: false,
  text: undefined,
};
