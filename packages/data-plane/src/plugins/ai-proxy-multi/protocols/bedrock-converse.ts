import {
  type AiProtocol,
  arrayOf,
  EventTally,
  isJsonObject,
  joinTexts,
  parseEventJson,
  type TokenUsage,
  tokenCount,
  tokenUsage,
} from './protocol.js';

/** §6.2 row bedrock-converse. */
function converseUsage(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  return tokenUsage({
    prompt_tokens: tokenCount(usage.inputTokens),
    completion_tokens: tokenCount(usage.outputTokens),
    total_tokens: tokenCount(usage.totalTokens),
    cache_read_input_tokens: tokenCount(usage.cacheReadInputTokens),
    cache_creation_input_tokens: tokenCount(usage.cacheWriteInputTokens),
  });
}

const isToolUse = (block: unknown) => isJsonObject(block) && isJsonObject(block.toolUse);

/**
 * AWS Bedrock Converse (`…/converse` with `messages`), ai-proxy-multi.md §5.2 row 1. Streams arrive in
 * AWS EventStream frames, which the relay hands over as events named by their `:event-type`.
 */
export const bedrockConverseProtocol: AiProtocol = {
  id: 'bedrock-converse',
  isStreaming: (body) => body.stream === true,
  prepareUpstreamBody(body) {
    // §4.4 step 1: Converse has no `stream` field; ConverseStream is chosen by the path instead.
    if (!('stream' in body)) return false;
    delete body.stream;
    return true;
  },
  readResponse(response, options) {
    if (!isJsonObject(response)) return { usage: undefined, text: undefined, hasToolCalls: false };
    const message = isJsonObject(response.output) ? response.output.message : undefined;
    const content = isJsonObject(message) ? arrayOf(message.content) : [];
    return {
      usage: converseUsage(response.usage),
      text: options.collectText
        ? joinTexts(content.map((block) => (isJsonObject(block) ? block.text : undefined)))
        : undefined,
      hasToolCalls: content.some(isToolUse),
    };
  },
  createStreamObserver: (options) =>
    new EventTally(options, (event, tally) => {
      if (event.type === 'contentBlockDelta' && !tally.collectsText) return;
      if (event.type !== 'contentBlockDelta' && event.type !== 'contentBlockStart' && event.type !== 'metadata') return;
      const data = parseEventJson(event.data);
      if (data === undefined) return;
      if (event.type === 'contentBlockDelta' && isJsonObject(data.delta)) tally.addText(data.delta.text);
      else if (event.type === 'contentBlockStart' && isJsonObject(data.start) && isToolUse(data.start))
        tally.hasToolCalls = true;
      else if (event.type === 'metadata') {
        const usage = converseUsage(data.usage);
        if (usage !== undefined) tally.addUsage(usage);
      }
    }),
  requestContent: (body) => body.messages,
  endUserId: () => undefined,
  // Binary EventStream framing cannot carry an SSE event: a broken stream is cut instead.
  streamErrorEvent: () => undefined,
};
