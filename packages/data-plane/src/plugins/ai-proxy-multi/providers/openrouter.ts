import { MAX_TOKENS, type ProviderDescriptor } from './provider.js';

/** `openrouter` (ai-proxy-multi.md §4.1). */
export const openRouterProvider: ProviderDescriptor = {
  id: 'openrouter',
  defaultHost: 'openrouter.ai',
  paths: { 'openai-chat': '/api/v1/chat/completions' },
  maxTokens: { 'openai-chat': MAX_TOKENS },
  removesModel: false,
};
