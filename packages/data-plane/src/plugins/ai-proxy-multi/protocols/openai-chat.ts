import { isDeepStrictEqual } from 'node:util';
import { type AiProtocol, isJsonObject, setOwnProperty, type TokenUsage, tokenCount } from './protocol.js';

const INCLUDE_USAGE = { include_usage: true } as const;

function usageOf(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  const prompt = tokenCount(usage.prompt_tokens);
  const completion = tokenCount(usage.completion_tokens);
  const total = tokenCount(usage.total_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total > 0 ? total : prompt + completion,
  };
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
  usageFromResponse: (response) => (isJsonObject(response) ? usageOf(response.usage) : undefined),
  usageFromStreamEvent(data) {
    // Only the final chunk carries `usage` (with include_usage); skip parsing every content delta.
    if (data === '[DONE]' || !data.includes('"usage"')) return undefined;
    try {
      const event: unknown = JSON.parse(data);
      return isJsonObject(event) ? usageOf(event.usage) : undefined;
    } catch {
      return undefined;
    }
  },
};
