import { MAX_COMPLETION_TOKENS, type ProviderDescriptor } from './provider.js';

/** `gemini` (ai-proxy-multi.md §4.1): Google's OpenAI-compatible endpoint; the API key goes in `auth.header`. */
export const geminiProvider: ProviderDescriptor = {
  id: 'gemini',
  defaultHost: 'generativelanguage.googleapis.com',
  paths: { 'openai-chat': '/v1beta/openai/chat/completions' },
  maxTokens: { 'openai-chat': MAX_COMPLETION_TOKENS },
  removesModel: false,
};
