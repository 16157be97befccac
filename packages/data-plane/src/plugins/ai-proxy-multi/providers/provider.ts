import type { AiProviderConf, AiProviderName } from '@switchboard/core';
import type { ProtocolId } from '../protocols/protocol.js';

/** What a request-dependent default path may depend on (ai-proxy-multi.md §4.1, §4.5). */
export interface ProviderPathInput {
  readonly providerConf: AiProviderConf;
  /** The resolved model (§4.5): `options.model`, else the client's `model`. */
  readonly model: string | undefined;
  /** The client streams (request_type `ai_stream`). */
  readonly streaming: boolean;
}

/**
 * A default path: fixed, or built per request from `provider_conf`, the model and the streaming flag
 * (vertex-ai, bedrock). A builder answering undefined means "cannot resolve" → 400 (§3.2).
 */
export type ProviderPath = string | ((input: ProviderPathInput) => string | undefined);

/**
 * Where `override.llm_options.max_tokens` goes for one target protocol (§4.4 step 3): the field path it
 * always overwrites (creating parent objects), and the fields it replaces (deleted).
 */
export interface MaxTokensTarget {
  readonly field: readonly [string, ...string[]];
  readonly replaces?: readonly string[];
}

/**
 * A provider is a small declarative descriptor over the one shared engine (STYLE §1): where it lives,
 * which protocols it speaks natively with the default path of each (ai-proxy-multi.md §4.1), and its
 * body and auth quirks. The engine reads these; no provider has code of its own beyond path builders.
 */
export interface ProviderDescriptor {
  readonly id: AiProviderName;
  /** Default host (https, port 443); undefined when the instance must set `override.endpoint` (§4.7). */
  readonly defaultHost: string | undefined;
  /** A host derived from `provider_conf` (vertex-ai, bedrock: the region); wins over `defaultHost`. */
  readonly hostFromConf?: (providerConf: AiProviderConf) => string | undefined;
  /** Native protocols and their default paths, used when the endpoint has no path (§4.2). */
  readonly paths: Readonly<Partial<Record<ProtocolId, ProviderPath>>>;
  /** `override.llm_options.max_tokens` per target protocol; protocols without an entry ignore it (§4.4 step 3). */
  readonly maxTokens: Readonly<Partial<Record<ProtocolId, MaxTokensTarget>>>;
  /** §4.4 step 5: `model` is deleted from the upstream body (it is in the URL or the deployment). */
  readonly removesModel: boolean;
  /** §4.9: requests are signed with AWS SigV4 for this service (endpoint prefix). */
  readonly awsSigningService?: string;
}

/** `max_tokens` as is: the field most OpenAI-compatible and Anthropic APIs read. */
export const MAX_TOKENS: MaxTokensTarget = { field: ['max_tokens'] };
/** OpenAI's newer chat field (§4.4 step 3: openai also deletes `max_tokens`, gemini and vertex-ai do not). */
export const MAX_COMPLETION_TOKENS: MaxTokensTarget = { field: ['max_completion_tokens'] };
/** The Responses API field. */
export const MAX_OUTPUT_TOKENS: MaxTokensTarget = { field: ['max_output_tokens'] };

/** The protocols a provider speaks natively, in its declaration order. */
export function nativeProtocols(provider: ProviderDescriptor): ProtocolId[] {
  // `paths` only has ProtocolId keys; Object.keys widens them to string.
  return Object.keys(provider.paths) as ProtocolId[];
}

/**
 * The host a provider is called at without `override.endpoint` (§4.1, §4.2).
 *
 * @example
 *   defaultHostOf(bedrockProvider, { region: 'us-east-1' }); // 'bedrock-runtime.us-east-1.amazonaws.com'
 */
export function defaultHostOf(
  provider: ProviderDescriptor,
  providerConf: AiProviderConf | undefined,
): string | undefined {
  return provider.hostFromConf?.(providerConf ?? {}) ?? provider.defaultHost;
}

/**
 * One URL path segment percent-encoded with RFC 3986's unreserved set kept (AWS's rule, and safe for
 * every provider): `anthropic.claude-3:0` → `anthropic.claude-3%3A0`.
 */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
