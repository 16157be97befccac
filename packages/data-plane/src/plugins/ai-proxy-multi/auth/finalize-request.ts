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

/** What the provider step may need to know about the request beyond the draft. */
export interface FinalizeContext {
  /** The resolved model (§4.5): `options.model`, else the client's `model`. */
  readonly model: string | undefined;
  /** The client asked to stream (request_type `ai_stream`). */
  readonly streaming: boolean;
}

/**
 * The provider step that needs the finished request, run last, after body shaping
 * (ai-proxy-multi.md §4.2, §4.3, §4.8, §4.9): model-dependent paths (bedrock
 * `/model/<model>/converse[-stream]`, vertex-ai predict), a GCP access token, an AWS SigV4
 * signature. Static `auth.header`/`auth.query` are already applied when the draft is built.
 * Resolves the request to send, or the attempt's failure (400 `could not resolve upstream path: …`,
 * 500 `failed to get gcp access token: …` / `failed to sign AWS request: …`).
 *
 * Today every provider sends the draft as is; vertex-ai and bedrock add their steps here.
 */
export async function finalizeUpstreamRequest(
  _instance: PreparedInstance,
  draft: UpstreamRequestDraft,
  _context: FinalizeContext,
): Promise<UpstreamRequestDraft | SwitchboardError> {
  return draft;
}
