import { isDeepStrictEqual } from 'node:util';
import { openAiErrorBody } from '../gateway-error.js';
import {
  type AiProtocol,
  arrayOf,
  EventTally,
  isJsonObject,
  joinTexts,
  parseEventJson,
  setOwnProperty,
  stringOrUndefined,
  type TokenUsage,
  tokenCount,
  tokenCountAt,
  tokenUsage,
} from './protocol.js';

const INCLUDE_USAGE = { include_usage: true } as const;

/** §6.2 row openai-chat, DeepSeek's `prompt_cache_hit_tokens` included. */
export function openAiChatUsage(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  const promptDetails = usage.prompt_tokens_details;
  return tokenUsage({
    prompt_tokens: tokenCount(usage.prompt_tokens),
    completion_tokens: tokenCount(usage.completion_tokens),
    total_tokens: tokenCount(usage.total_tokens),
    cache_read_input_tokens: tokenCountAt(promptDetails, 'cached_tokens') || tokenCount(usage.prompt_cache_hit_tokens),
    cache_creation_input_tokens: tokenCountAt(promptDetails, 'cache_creation_input_tokens'),
    reasoning_tokens: tokenCountAt(usage.completion_tokens_details, 'reasoning_tokens'),
  });
}

function hasToolCalls(message: unknown): boolean {
  return isJsonObject(message) && arrayOf(message.tool_calls).length > 0;
}

/** End user (§8.1): `safety_identifier`, else `user`. Shared with the Responses API. */
export function openAiEndUser(body: Record<string, unknown>): string | undefined {
  return stringOrUndefined(body.safety_identifier) ?? stringOrUndefined(body.user);
}

/** OpenAI Chat Completions (`{"messages": [...]}`), ai-proxy-multi.md §5.2 row 4. */
export const openAiChatProtocol: AiProtocol = {
  id: 'openai-chat',
  isStreaming: (body) => body.stream === true,
  prepareUpstreamBody(body) {
    // §4.4 step 1: a streaming client gets usage in the final chunk; the client's own stream_options
    // object is replaced entirely (Q11). Truthy, as APISIX tests it here (detection uses `=== true`).
    if (!body.stream) return false;
    if (isDeepStrictEqual(body.stream_options, INCLUDE_USAGE)) return false;
    setOwnProperty(body, 'stream_options', { ...INCLUDE_USAGE });
    return true;
  },
  readResponse(response, options) {
    if (!isJsonObject(response)) return { usage: undefined, text: undefined, hasToolCalls: false };
    // One pass, no arrays unless the text is wanted: this runs on every non-streaming answer.
    const texts: unknown[] | undefined = options.collectText ? [] : undefined;
    let toolCalls = false;
    for (const choice of arrayOf(response.choices)) {
      const message = isJsonObject(choice) ? choice.message : undefined;
      if (!isJsonObject(message)) continue;
      texts?.push(message.content);
      if (hasToolCalls(message)) toolCalls = true;
    }
    return {
      usage: openAiChatUsage(response.usage),
      text: texts === undefined ? undefined : joinTexts(texts),
      hasToolCalls: toolCalls,
    };
  },
  createStreamObserver: (options) =>
    new EventTally(options, (event, tally) => {
      const { data } = event;
      // Without text collection only the final usage chunk and tool-call deltas matter: skip parsing
      // every content delta (the hot path of a stream).
      if (data === '[DONE]') return;
      if (!tally.collectsText && !data.includes('"usage"') && (tally.hasToolCalls || !data.includes('"tool_calls"')))
        return;
      const chunk = parseEventJson(data);
      if (chunk === undefined) return;
      for (const choice of arrayOf(chunk.choices)) {
        if (!isJsonObject(choice) || !isJsonObject(choice.delta)) continue;
        tally.addText(choice.delta.content);
        if (hasToolCalls(choice.delta)) tally.hasToolCalls = true;
      }
      const usage = openAiChatUsage(chunk.usage);
      if (usage !== undefined) tally.addUsage(usage);
    }),
  requestContent: (body) => body.messages,
  endUserId: openAiEndUser,
  streamErrorEvent: (error) => `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`,
};
