import { MAX_OUTPUT_TOKENS, MAX_TOKENS, type ProviderDescriptor } from './provider.js';

/**
 * `openai-compatible` (ai-proxy-multi.md §4.1, §4.7): OpenAI's paths, no default host. Without
 * `override.endpoint` every request fails like a refused connection (500), as in APISIX.
 */
export const openAiCompatibleProvider: ProviderDescriptor = {
  id: 'openai-compatible',
  defaultHost: undefined,
  paths: {
    'openai-chat': '/v1/chat/completions',
    'openai-responses': '/v1/responses',
    'openai-embeddings': '/v1/embeddings',
  },
  maxTokens: { 'openai-chat': MAX_TOKENS, 'openai-responses': MAX_OUTPUT_TOKENS },
  removesModel: false,
};
