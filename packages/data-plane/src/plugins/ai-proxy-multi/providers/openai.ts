import { MAX_COMPLETION_TOKENS, MAX_OUTPUT_TOKENS, type ProviderDescriptor } from './provider.js';

/** `openai` (ai-proxy-multi.md §4.1). `llm_options.max_tokens` → `max_completion_tokens`, `max_tokens` deleted. */
export const openAiProvider: ProviderDescriptor = {
  id: 'openai',
  defaultHost: 'api.openai.com',
  paths: {
    'openai-chat': '/v1/chat/completions',
    'openai-responses': '/v1/responses',
    'openai-embeddings': '/v1/embeddings',
  },
  maxTokens: {
    'openai-chat': { ...MAX_COMPLETION_TOKENS, replaces: ['max_tokens'] },
    'openai-responses': MAX_OUTPUT_TOKENS,
  },
  removesModel: false,
};
