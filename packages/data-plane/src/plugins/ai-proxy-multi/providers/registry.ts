import { openAiProvider } from './openai.js';
import { openAiCompatibleProvider } from './openai-compatible.js';
import type { ProviderDescriptor } from './provider.js';

const PROVIDERS: ReadonlyMap<string, ProviderDescriptor> = new Map(
  [openAiProvider, openAiCompatibleProvider].map((provider) => [provider.id, provider]),
);

/** The descriptor for a configured `provider` name, or undefined when this build does not ship it yet. */
export function findProvider(id: string): ProviderDescriptor | undefined {
  return PROVIDERS.get(id);
}
