import type { ProtocolId } from '../protocols/protocol.js';
import type { SseEvent } from './sse-event-splitter.js';

/**
 * Whether an upstream stream said that its answer is complete (ai-proxy-multi.md §6.3 step 6, the "done"
 * of each protocol). A stream that ends without it was cut short by the upstream, even when the HTTP
 * body ended cleanly, and must not look complete to the client (DECISIONS "Honest streams").
 */
export interface StreamCompletion {
  onEvent(event: SseEvent): void;
  readonly finished: boolean;
}

/** A finish reason that is a string (`"stop"`, `"length"`, …), not `null`; no parsing needed. */
const OPENAI_FINISH_REASON = /"finish_reason"\s*:\s*"/;

/** The data's own `type`, for servers that leave out the `event:` line (its type is then `message`). */
const DATA_TYPE = /"type"\s*:\s*"([^"]+)"/;

/** Event types that end a stream, per protocol whose events carry a type. */
const TERMINAL_EVENT_TYPES: Partial<Record<ProtocolId, ReadonlySet<string>>> = {
  // An `error` event is the upstream's own honest end: relayed as it is, nothing added.
  'anthropic-messages': new Set(['message_stop', 'error']),
  'openai-responses': new Set(['response.completed', 'response.failed', 'response.incomplete', 'error']),
  'bedrock-converse': new Set(['messageStop', 'metadata', 'exception']),
};

class OpenAiChatCompletion implements StreamCompletion {
  finished = false;

  onEvent(event: SseEvent): void {
    // `[DONE]`, or a choice with a finish reason: some OpenAI-compatible servers never send `[DONE]`.
    if (!this.finished && (event.data === '[DONE]' || OPENAI_FINISH_REASON.test(event.data))) this.finished = true;
  }
}

class TypedEventCompletion implements StreamCompletion {
  finished = false;

  constructor(private readonly terminal: ReadonlySet<string>) {}

  onEvent(event: SseEvent): void {
    if (this.finished) return;
    const type = event.type === 'message' ? DATA_TYPE.exec(event.data)?.[1] : event.type;
    if (type !== undefined && this.terminal.has(type)) this.finished = true;
  }
}

/**
 * The completion check of the protocol an upstream streams in; undefined where a stream has no end
 * marker to check (passthrough, and protocols that never stream).
 *
 * @example
 *   const completion = createStreamCompletion('openai-chat');
 *   completion?.onEvent({ type: 'message', data: '[DONE]' });
 *   completion?.finished; // true
 */
export function createStreamCompletion(target: ProtocolId): StreamCompletion | undefined {
  if (target === 'openai-chat') return new OpenAiChatCompletion();
  const terminal = TERMINAL_EVENT_TYPES[target];
  return terminal === undefined ? undefined : new TypedEventCompletion(terminal);
}
