import type { AiProviderConf } from '@switchboard/core';
import { SwitchboardError } from '@switchboard/core';
import type { ProtocolId } from '../protocols/protocol.js';
import type { ProviderPathInput } from '../providers/provider.js';
import type { FinalizeContext, UpstreamRequestDraft } from './finalize-request.js';

/** §3.2: the 400 when a model-dependent path has nothing to build from. */
export const UNRESOLVED_PATH_MESSAGE =
  'could not resolve upstream path: ensure the route or request body specifies a model, or that override.endpoint includes a path';

/**
 * Puts a request-dependent default path (bedrock `/model/<model>/converse[-stream]`, vertex-ai's project
 * and model paths, ai-proxy-multi.md §4.1) in front of the prepared query. `builders` holds one entry per
 * protocol whose path is built per request; other protocols pass through untouched.
 *
 * @example
 *   const step = requestPathStep(new Map([['bedrock-converse', bedrockProvider.paths['bedrock-converse']]]), { region: 'us-east-1' });
 */
export function requestPathStep(
  builders: ReadonlyMap<ProtocolId, (input: ProviderPathInput) => string | undefined>,
  providerConf: AiProviderConf,
): (draft: UpstreamRequestDraft, context: FinalizeContext) => UpstreamRequestDraft | SwitchboardError {
  return (draft, context) => {
    const build = builders.get(context.protocol);
    if (build === undefined) return draft;
    const path = build({ providerConf, model: context.model, streaming: context.streaming });
    if (path === undefined) return new SwitchboardError('SB_ERR_BAD_REQUEST', UNRESOLVED_PATH_MESSAGE);
    // The prepared location holds only the query for these protocols (endpoint.ts requestDependentPath).
    return { ...draft, path: `${path}${draft.path}` };
  };
}
