import type { SwitchboardError } from '@switchboard/core';
import { openAiErrorBody } from '../gateway-error.js';
import { openAiEndUser } from './openai-chat.js';
import {
  type AiProtocol,
  arrayOf,
  EventTally,
  isJsonObject,
  joinTexts,
  parseEventJson,
  type TokenUsage,
  tokenCount,
  tokenCountAt,
  tokenUsage,
} from './protocol.js';

/** §6.2 row openai-responses. */
function responsesUsage(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  return tokenUsage({
    prompt_tokens: tokenCount(usage.input_tokens),
    completion_tokens: tokenCount(usage.output_tokens),
    total_tokens: tokenCount(usage.total_tokens),
    cache_read_input_tokens: tokenCountAt(usage.input_tokens_details, 'cached_tokens'),
    reasoning_tokens: tokenCountAt(usage.output_tokens_details, 'reasoning_tokens'),
  });
}

/** §6.2 step 7: `output[type=message].content[type=output_text].text`, joined by a space. */
function outputText(output: readonly unknown[]): string | undefined {
  const texts: unknown[] = [];
  for (const item of output) {
    if (!isJsonObject(item) || item.type !== 'message') continue;
    for (const part of arrayOf(item.content))
      if (isJsonObject(part) && part.type === 'output_text') texts.push(part.text);
  }
  return joinTexts(texts);
}

const isFunctionCall = (item: unknown) => isJsonObject(item) && item.type === 'function_call';

/** The Responses API's error event (`type: error`), as its SDKs read it. */
function responsesErrorEvent(error: SwitchboardError): string {
  const { message, code } = openAiErrorBody(error).error;
  return `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null })}\n\n`;
}

/**
 * OpenAI Responses API (`/v1/responses` with `input`), ai-proxy-multi.md §5.2 row 3. No
 * `stream_options` is injected (test-pinned): the final `response.completed` event carries the usage.
 */
export const openAiResponsesProtocol: AiProtocol = {
  id: 'openai-responses',
  isStreaming: (body) => body.stream === true,
  prepareUpstreamBody: () => false,
  readResponse(response, options) {
    if (!isJsonObject(response)) return { usage: undefined, text: undefined, hasToolCalls: false };
    const output = arrayOf(response.output);
    return {
      usage: responsesUsage(response.usage),
      text: options.collectText ? outputText(output) : undefined,
      hasToolCalls: output.some(isFunctionCall),
    };
  },
  createStreamObserver: (options) =>
    new EventTally(options, (event, tally) => {
      // The SSE event name repeats the data's `type`; check it before parsing anything.
      const type = event.type === 'message' ? undefined : event.type;
      if (type === 'response.output_text.delta') {
        if (tally.collectsText) tally.addText(parseEventJson(event.data)?.delta);
        return;
      }
      if (type !== undefined && type !== 'response.completed' && type !== 'response.output_item.added') return;
      const data = parseEventJson(event.data);
      if (data === undefined) return;
      if (data.type === 'response.output_text.delta') tally.addText(data.delta);
      else if (data.type === 'response.output_item.added' && isFunctionCall(data.item)) tally.hasToolCalls = true;
      else if (data.type === 'response.completed' && isJsonObject(data.response)) {
        const usage = responsesUsage(data.response.usage);
        if (usage !== undefined) tally.addUsage(usage);
        if (arrayOf(data.response.output).some(isFunctionCall)) tally.hasToolCalls = true;
      }
    }),
  requestContent: (body) => body.input,
  endUserId: openAiEndUser,
  streamErrorEvent: responsesErrorEvent,
};
