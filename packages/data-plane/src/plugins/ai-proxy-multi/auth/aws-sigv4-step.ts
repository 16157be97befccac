import { SwitchboardError } from '@switchboard/core';
import type { AwsCredentials } from './aws-sigv4.js';
import { signAwsRequest } from './aws-sigv4.js';
import type { FinalizeContext, UpstreamRequestDraft } from './finalize-request.js';

/** The authority signed as `host` (§4.9): the request's own Host header, else the connect host[:port]. */
function signedHost(draft: UpstreamRequestDraft): string {
  const host = draft.headers.host;
  if (typeof host === 'string' && host !== '') return host;
  return new URL(draft.origin).host;
}

/**
 * Signs the finished request with AWS SigV4 (ai-proxy-multi.md §4.9), last of all steps so the exact
 * body bytes, query and path are what is signed. Adds `authorization`, `x-amz-date` and, with a session
 * token, `x-amz-security-token`; the path goes out single-encoded per segment.
 *
 * @example
 *   const step = awsSigV4Step({ credentials, region: 'us-east-1', service: 'bedrock', wallClock: Date.now });
 */
export function awsSigV4Step(args: {
  readonly credentials: AwsCredentials;
  readonly region: string;
  readonly service: string;
  readonly wallClock: () => number;
}): (draft: UpstreamRequestDraft, context: FinalizeContext) => UpstreamRequestDraft | SwitchboardError {
  return (draft) => {
    try {
      const signed = signAwsRequest(
        {
          method: draft.method,
          host: signedHost(draft),
          pathAndQuery: draft.path,
          headers: draft.headers,
          body: draft.body,
        },
        { credentials: args.credentials, region: args.region, service: args.service, nowMs: args.wallClock() },
      );
      return { ...draft, path: signed.pathAndQuery, headers: { ...draft.headers, ...signed.headers } };
    } catch (error) {
      return new SwitchboardError(
        'SB_ERR_PROVIDER_AUTH',
        `failed to sign AWS request: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  };
}
