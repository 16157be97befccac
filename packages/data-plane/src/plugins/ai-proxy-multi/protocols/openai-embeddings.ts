import { type AiProtocol, isJsonObject, tokenCount } from './protocol.js';

/** OpenAI Embeddings (`{"input": ...}`), ai-proxy-multi.md §5.2 row 5: never streams. */
export const openAiEmbeddingsProtocol: AiProtocol = {
  id: 'openai-embeddings',
  isStreaming: () => false,
  prepareUpstreamBody: () => false,
  usageFromResponse(response) {
    if (!isJsonObject(response) || !isJsonObject(response.usage)) return undefined;
    return {
      prompt_tokens: tokenCount(response.usage.prompt_tokens),
      completion_tokens: 0,
      total_tokens: tokenCount(response.usage.total_tokens),
    };
  },
  usageFromStreamEvent: () => undefined,
};
