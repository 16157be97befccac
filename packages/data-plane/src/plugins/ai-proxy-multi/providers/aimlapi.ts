import { MAX_TOKENS, type ProviderDescriptor } from './provider.js';

/** `aimlapi` (ai-proxy-multi.md §4.1; the docs' `/v1/chat/completions` is wrong, §1.12). */
export const aimlApiProvider: ProviderDescriptor = {
  id: 'aimlapi',
  defaultHost: 'api.aimlapi.com',
  paths: { 'openai-chat': '/chat/completions' },
  maxTokens: { 'openai-chat': MAX_TOKENS },
  removesModel: false,
};
