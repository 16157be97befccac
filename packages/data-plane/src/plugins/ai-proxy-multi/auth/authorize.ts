import type { SwitchboardError } from '@switchboard/core';
import type { HeaderMap } from '../../../upstream/headers.js';
import type { PreparedInstance } from '../prepare.js';

/** The upstream request of one attempt, complete but for provider authentication. */
export interface UpstreamRequestDraft {
  readonly origin: string;
  /** Path plus query string, as sent. */
  readonly path: string;
  readonly method: 'POST' | 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  readonly headers: HeaderMap;
  /** The exact bytes sent (SigV4 signs them). */
  readonly body: string | Buffer;
}

/**
 * Provider authentication that needs the finished request (ai-proxy-multi.md §4.3, §4.8, §4.9): a GCP
 * access token, an AWS SigV4 signature. Runs last, after body shaping. Static `auth.header`/`auth.query`
 * are already applied when the draft is built. Resolves the request to send, or the attempt's failure
 * (500 `failed to get gcp access token: …` / `failed to sign AWS request: …`).
 *
 * Today every provider sends the draft as is; vertex-ai and bedrock add their steps here.
 */
export async function authorizeUpstreamRequest(
  _instance: PreparedInstance,
  draft: UpstreamRequestDraft,
): Promise<UpstreamRequestDraft | SwitchboardError> {
  return draft;
}
