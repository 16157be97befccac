import { MAX_TOKENS, type ProviderDescriptor } from './provider.js';

/** `deepseek` (ai-proxy-multi.md §4.1): OpenAI chat without the `/v1` prefix. */
export const deepSeekProvider: ProviderDescriptor = {
  id: 'deepseek',
  defaultHost: 'api.deepseek.com',
  paths: { 'openai-chat': '/chat/completions' },
  maxTokens: { 'openai-chat': MAX_TOKENS },
  removesModel: false,
};
