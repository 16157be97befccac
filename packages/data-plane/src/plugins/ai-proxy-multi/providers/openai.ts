import type { ProviderDescriptor } from './provider.js';

/** `openai` (ai-proxy-multi.md §4.1). */
export const openAiProvider: ProviderDescriptor = {
  id: 'openai',
  defaultHost: 'api.openai.com',
  paths: {
    'openai-chat': '/v1/chat/completions',
    'openai-responses': '/v1/responses',
    'openai-embeddings': '/v1/embeddings',
  },
};
