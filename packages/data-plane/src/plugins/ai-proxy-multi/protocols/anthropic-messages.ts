import type { SwitchboardError } from '@switchboard/core';
import {
  type AiProtocol,
  arrayOf,
  EventTally,
  isJsonObject,
  joinTexts,
  parseEventJson,
  stringOrUndefined,
  type TokenUsage,
  tokenCount,
  tokenUsage,
} from './protocol.js';

/** §6.2 row anthropic-messages: the total is always input + output. */
export function anthropicUsage(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  return tokenUsage({
    prompt_tokens: tokenCount(usage.input_tokens),
    completion_tokens: tokenCount(usage.output_tokens),
    cache_read_input_tokens: tokenCount(usage.cache_read_input_tokens),
    cache_creation_input_tokens: tokenCount(usage.cache_creation_input_tokens),
  });
}

/** Anthropic's error type for an HTTP status, as its API names them. */
export function anthropicErrorType(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  return status < 500 ? 'invalid_request_error' : 'api_error';
}

/** Anthropic's error body: `{"type":"error","error":{"type","message"}}`. */
export function anthropicErrorBody(status: number, message: string): Record<string, unknown> {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}

function anthropicErrorEvent(error: SwitchboardError): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(error.status, error.message))}\n\n`;
}

const isToolUse = (block: unknown) => isJsonObject(block) && block.type === 'tool_use';

/**
 * Anthropic Messages (`/v1/messages`), ai-proxy-multi.md §5.2 row 2: native on `anthropic`, converted
 * to and from openai-chat elsewhere (convert/).
 */
export const anthropicMessagesProtocol: AiProtocol = {
  id: 'anthropic-messages',
  isStreaming: (body) => body.stream === true,
  prepareUpstreamBody: () => false,
  readResponse(response, options) {
    if (!isJsonObject(response)) return { usage: undefined, text: undefined, hasToolCalls: false };
    const content = arrayOf(response.content);
    return {
      usage: anthropicUsage(response.usage),
      text: options.collectText
        ? joinTexts(content.map((block) => (isJsonObject(block) && block.type === 'text' ? block.text : undefined)))
        : undefined,
      hasToolCalls: content.some(isToolUse),
    };
  },
  createStreamObserver: (options) =>
    new EventTally(options, (event, tally) => {
      const type = event.type;
      if (type === 'content_block_delta' && !tally.collectsText) return;
      if (type === 'ping' || type === 'content_block_stop' || type === 'message_stop') return;
      const data = parseEventJson(event.data);
      if (data === undefined) return;
      switch (data.type) {
        case 'message_start':
          if (isJsonObject(data.message)) {
            const usage = anthropicUsage(data.message.usage);
            if (usage !== undefined) tally.addUsage(usage);
          }
          return;
        case 'content_block_start':
          if (isToolUse(data.content_block)) tally.hasToolCalls = true;
          return;
        case 'content_block_delta':
          if (isJsonObject(data.delta) && data.delta.type === 'text_delta') tally.addText(data.delta.text);
          return;
        case 'message_delta': {
          const usage = anthropicUsage(data.usage);
          if (usage !== undefined) tally.addUsage(usage);
          return;
        }
      }
    }),
  requestContent: (body) => body.messages,
  endUserId: (body) => (isJsonObject(body.metadata) ? stringOrUndefined(body.metadata.user_id) : undefined),
  streamErrorEvent: anthropicErrorEvent,
};
