import type { ProtocolId } from '../protocols/protocol.js';

/**
 * A provider is a small declarative descriptor over the one shared engine (STYLE §1): where it lives
 * and which protocols it speaks natively, with the default path of each (ai-proxy-multi.md §4.1).
 * Body tweaks (llm_options mapping, model removal) and auth styles join here as providers need them.
 */
export interface ProviderDescriptor {
  readonly id: string;
  /** Default host (https, port 443); undefined when the instance must set `override.endpoint`. */
  readonly defaultHost: string | undefined;
  /** Native protocols and their default paths, used when the endpoint has no path (§4.2). */
  readonly paths: Readonly<Partial<Record<ProtocolId, string>>>;
}

/** The protocols a provider speaks natively, in its declaration order. */
export function nativeProtocols(provider: ProviderDescriptor): ProtocolId[] {
  // `paths` only has ProtocolId keys; Object.keys widens them to string.
  return Object.keys(provider.paths) as ProtocolId[];
}
