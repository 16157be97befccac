import { MAX_TOKENS, type ProviderDescriptor } from './provider.js';

/**
 * `azure-openai` (ai-proxy-multi.md §4.1, §4.7): no default host, so `override.endpoint` (the deployment's
 * full URL with `api-version`) is required in practice; `/completions` is APISIX's meaningless default path.
 * The deployment names the model, so `model` is removed from the body. Chat only (§1.12).
 */
export const azureOpenAiProvider: ProviderDescriptor = {
  id: 'azure-openai',
  defaultHost: undefined,
  paths: { 'openai-chat': '/completions' },
  maxTokens: { 'openai-chat': MAX_TOKENS },
  removesModel: true,
};
