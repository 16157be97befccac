import { SwitchboardError } from '@switchboard/core';
import type { HeaderMap } from '../../../upstream/headers.js';
import type { PrepareScope } from '../../runtime-plugin.js';
import type { AiProxyMultiConf, AiProxyMultiInstanceConf } from '../conf.js';
import { requestDependentPath } from '../endpoint.js';
import type { PreparedInstance } from '../prepare.js';
import type { ProtocolId } from '../protocols/protocol.js';
import { nativeProtocols, type ProviderDescriptor, type ProviderPathInput } from '../providers/provider.js';
import { awsSigV4Step } from './aws-sigv4-step.js';
import { gcpAuthStep } from './gcp-auth-step.js';
import type { ProviderAuthRuntime } from './provider-auth-runtime.js';
import { requestPathStep } from './request-path-step.js';

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
  /** The target protocol of this attempt (after conversion): it picks the provider path. */
  readonly protocol: ProtocolId;
}

type FinalizeStep = (
  draft: UpstreamRequestDraft,
  context: FinalizeContext,
) => UpstreamRequestDraft | SwitchboardError | Promise<UpstreamRequestDraft | SwitchboardError>;

/** An instance's provider steps, prepared once per config change. */
export interface RequestFinalizer {
  finalize(draft: UpstreamRequestDraft, context: FinalizeContext): Promise<UpstreamRequestDraft | SwitchboardError>;
}

/** Most providers need no step: static auth is already in the draft. */
const PASS_THROUGH: RequestFinalizer = { finalize: async (draft) => draft };

function pathBuilders(
  provider: ProviderDescriptor,
  endpoint: string | undefined,
): Map<ProtocolId, (input: ProviderPathInput) => string | undefined> {
  const builders = new Map<ProtocolId, (input: ProviderPathInput) => string | undefined>();
  for (const protocol of nativeProtocols(provider)) {
    const build = requestDependentPath({ provider, protocol, endpoint });
    if (build !== undefined) builders.set(protocol, build);
  }
  return builders;
}

/**
 * The provider steps of one instance, in order (ai-proxy-multi.md §4.2, §4.3, §4.8, §4.9): a
 * request-dependent default path (bedrock, vertex-ai), a GCP access token (`auth.gcp`), an AWS SigV4
 * signature (bedrock with `auth.aws`; applied last, over the exact bytes sent).
 *
 * @example
 *   const finalizer = prepareRequestFinalizer({ instance, provider, conf, scope, runtime });
 *   const request = await finalizer.finalize(draft, { model: 'm', streaming: false, protocol: 'bedrock-converse' });
 */
export function prepareRequestFinalizer(args: {
  readonly instance: AiProxyMultiInstanceConf;
  readonly provider: ProviderDescriptor | undefined;
  readonly conf: Pick<AiProxyMultiConf, 'timeout' | 'keepalive_timeout' | 'ssl_verify'>;
  readonly scope: PrepareScope;
  readonly runtime: ProviderAuthRuntime;
}): RequestFinalizer {
  const { instance, provider, conf, scope, runtime } = args;
  if (provider === undefined) return PASS_THROUGH;
  const steps: FinalizeStep[] = [];

  const builders = pathBuilders(provider, instance.override?.endpoint);
  if (builders.size > 0) steps.push(requestPathStep(builders, instance.provider_conf ?? {}));

  const gcp = instance.auth.gcp;
  if (gcp !== undefined) {
    steps.push(
      gcpAuthStep({
        gcp,
        instanceName: instance.name,
        runtime,
        timeoutMs: conf.timeout,
        logger: scope.logger,
        dispatcherFor: (origin) =>
          scope.dispatchers.get(origin, {
            keepAliveTimeoutMs: conf.keepalive_timeout,
            timeoutMs: conf.timeout,
            rejectUnauthorized: conf.ssl_verify,
          }),
      }),
    );
  }

  const aws = instance.auth.aws;
  const region = instance.provider_conf?.region;
  if (provider.awsSigningService !== undefined && aws !== undefined && region !== undefined) {
    steps.push(
      awsSigV4Step({
        credentials: {
          accessKeyId: aws.access_key_id,
          secretAccessKey: aws.secret_access_key,
          sessionToken: aws.session_token,
        },
        region,
        service: provider.awsSigningService,
        wallClock: runtime.wallClock,
      }),
    );
  }

  if (steps.length === 0) return PASS_THROUGH;
  return {
    async finalize(draft, context) {
      let current = draft;
      for (const step of steps) {
        const next = await step(current, context);
        if (next instanceof SwitchboardError) return next;
        current = next;
      }
      return current;
    },
  };
}

/**
 * The provider step that needs the finished request, run last, after body shaping
 * (ai-proxy-multi.md §4.2, §4.3, §4.8, §4.9): model-dependent paths (bedrock
 * `/model/<model>/converse[-stream]`, vertex-ai), a GCP access token, an AWS SigV4 signature. Static
 * `auth.header`/`auth.query` are already applied when the draft is built. Resolves the request to send,
 * or the attempt's failure (400 `could not resolve upstream path: …`, 500 `failed to get gcp access
 * token: …` / `failed to sign AWS request: …`).
 *
 * @example
 *   const request = await finalizeUpstreamRequest(instance, draft, { model, streaming, protocol: 'openai-chat' });
 */
export function finalizeUpstreamRequest(
  instance: PreparedInstance,
  draft: UpstreamRequestDraft,
  context: FinalizeContext,
): Promise<UpstreamRequestDraft | SwitchboardError> {
  return instance.finalizer.finalize(draft, context);
}
