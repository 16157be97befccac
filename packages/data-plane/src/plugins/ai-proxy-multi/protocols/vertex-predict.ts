import { openAiErrorBody } from '../gateway-error.js';
import { type AiProtocol, arrayOf, isJsonObject, SILENT_OBSERVER, tokenCount, tokenUsage } from './protocol.js';

/** Σ `predictions[i].embeddings.statistics.token_count` (§4.6). */
export function vertexPredictTokenCount(response: unknown): number {
  if (!isJsonObject(response)) return 0;
  let total = 0;
  for (const prediction of arrayOf(response.predictions)) {
    const embeddings = isJsonObject(prediction) ? prediction.embeddings : undefined;
    const statistics = isJsonObject(embeddings) ? embeddings.statistics : undefined;
    total += isJsonObject(statistics) ? tokenCount(statistics.token_count) : 0;
  }
  return total;
}

/**
 * Vertex AI `:predict` for text embeddings (ai-proxy-multi.md §4.1): never what a client speaks, only
 * the target of the openai-embeddings converter on `vertex-ai`.
 */
export const vertexPredictProtocol: AiProtocol = {
  id: 'vertex-predict',
  isStreaming: () => false,
  prepareUpstreamBody: () => false,
  readResponse(response) {
    const tokens = vertexPredictTokenCount(response);
    return {
      usage: isJsonObject(response) ? tokenUsage({ prompt_tokens: tokens, total_tokens: tokens }) : undefined,
      text: undefined,
      hasToolCalls: false,
    };
  },
  createStreamObserver: () => SILENT_OBSERVER,
  requestContent: (body) => body.instances,
  endUserId: () => undefined,
  streamErrorEvent: (error) => `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`,
};
