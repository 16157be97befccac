import { openAiErrorBody } from '../gateway-error.js';
import { type AiProtocol, isJsonObject, SILENT_OBSERVER, tokenCount, tokenUsage } from './protocol.js';

/** OpenAI Embeddings (`{"input": ...}`), ai-proxy-multi.md §5.2 row 5: never streams. */
export const openAiEmbeddingsProtocol: AiProtocol = {
  id: 'openai-embeddings',
  isStreaming: () => false,
  prepareUpstreamBody: () => false,
  readResponse(response) {
    const usage = isJsonObject(response) && isJsonObject(response.usage) ? response.usage : undefined;
    return {
      // §6.2: the total is `usage.total_tokens`, 0 when absent (not prompt + completion).
      usage:
        usage === undefined
          ? undefined
          : {
              ...tokenUsage({ prompt_tokens: tokenCount(usage.prompt_tokens) }),
              total_tokens: tokenCount(usage.total_tokens),
            },
      text: undefined,
      hasToolCalls: false,
    };
  },
  createStreamObserver: () => SILENT_OBSERVER,
  requestContent: (body) => body.input,
  endUserId: (body) => (typeof body.user === 'string' ? body.user : undefined),
  streamErrorEvent: (error) => `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`,
};
