import type { AiProviderName } from '@switchboard/core';
import { aimlApiProvider } from './aimlapi.js';
import { anthropicProvider } from './anthropic.js';
import { azureOpenAiProvider } from './azure-openai.js';
import { bedrockProvider } from './bedrock.js';
import { deepSeekProvider } from './deepseek.js';
import { geminiProvider } from './gemini.js';
import { openAiProvider } from './openai.js';
import { openAiCompatibleProvider } from './openai-compatible.js';
import { openRouterProvider } from './openrouter.js';
import type { ProviderDescriptor } from './provider.js';
import { vertexAiProvider } from './vertex-ai.js';

/** Every value of the schema's provider enum has a descriptor: the record type makes a missing one a compile error. */
const PROVIDERS: Readonly<Record<AiProviderName, ProviderDescriptor>> = {
  openai: openAiProvider,
  deepseek: deepSeekProvider,
  aimlapi: aimlApiProvider,
  anthropic: anthropicProvider,
  'openai-compatible': openAiCompatibleProvider,
  'azure-openai': azureOpenAiProvider,
  openrouter: openRouterProvider,
  gemini: geminiProvider,
  'vertex-ai': vertexAiProvider,
  bedrock: bedrockProvider,
};

/**
 * The descriptor for a configured `provider` name (ai-proxy-multi.md §4.1); undefined only for a name
 * outside the schema's enum, which validation already rejects.
 *
 * @example findProvider('deepseek')?.defaultHost; // 'api.deepseek.com'
 */
export function findProvider(id: string): ProviderDescriptor | undefined {
  return Object.hasOwn(PROVIDERS, id) ? PROVIDERS[id as AiProviderName] : undefined;
}
