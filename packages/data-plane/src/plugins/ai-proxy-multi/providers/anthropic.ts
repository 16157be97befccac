import { MAX_TOKENS, type ProviderDescriptor } from './provider.js';

/**
 * `anthropic` (ai-proxy-multi.md §4.1, §4.7): Messages natively, and OpenAI chat clients go to Anthropic's
 * OpenAI-compatible endpoint unconverted. No implicit headers (§4.3): clients or `auth.header` send
 * `x-api-key` and `anthropic-version`.
 */
export const anthropicProvider: ProviderDescriptor = {
  id: 'anthropic',
  defaultHost: 'api.anthropic.com',
  paths: {
    'openai-chat': '/v1/chat/completions',
    'anthropic-messages': '/v1/messages',
  },
  maxTokens: { 'openai-chat': MAX_TOKENS, 'anthropic-messages': MAX_TOKENS },
  removesModel: false,
};
