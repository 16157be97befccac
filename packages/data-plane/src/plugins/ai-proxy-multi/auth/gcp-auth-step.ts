import { createHash } from 'node:crypto';
import { SwitchboardError } from '@switchboard/core';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { FinalizeContext, UpstreamRequestDraft } from './finalize-request.js';
import { type GcpServiceAccount, parseGcpServiceAccount } from './gcp-service-account.js';
import type { GcpTokenPolicy } from './gcp-token-cache.js';
import { exchangeGcpToken } from './gcp-token-exchange.js';
import type { ProviderAuthRuntime } from './provider-auth-runtime.js';

/** `auth.gcp` as configured (§1.5). */
export interface GcpAuthConf {
  readonly service_account_json?: string | undefined;
  readonly max_ttl?: number | undefined;
  readonly expire_early_secs?: number | undefined;
}

/** APISIX's message for any failed token fetch (§4.8); the reason goes to the log only. */
const TOKEN_FAILURE = 'failed to get gcp access token: failed to get google oauth token';
const DEFAULT_EXPIRE_EARLY_SECS = 60;

/**
 * Whether `text` parses as JSON. Node's JSON.parse messages quote the input, and the input here is a
 * private key (possibly from the environment, §1.5): their text never reaches a client or a log.
 */
function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function authFailure(message: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_PROVIDER_AUTH', message);
}

/**
 * The cache key (§4.8): the account JSON and the TTL policy, hashed (identical credentials with
 * different policies do not share a token), plus the instance name.
 */
function cacheKey(json: string, policy: GcpTokenPolicy, instanceName: string): string {
  const digest = createHash('sha256')
    .update(`${json}\0${policy.expireEarlySecs}\0${policy.maxTtlSecs ?? ''}`)
    .digest('hex');
  return `${digest}#${instanceName}`;
}

/**
 * Sets `authorization: Bearer <access token>` from a Google service account (ai-proxy-multi.md §4.3,
 * §4.8), overriding any client or `auth.header` Authorization. The account JSON is
 * `auth.gcp.service_account_json`, else the `GCP_SERVICE_ACCOUNT` environment value; it is parsed here,
 * once per config change. Tokens come from the worker's cache, fetched through the pooled dispatcher of
 * the token URI. Failures are 500 SB_ERR_PROVIDER_AUTH (retriable under `http_5xx`, quirk Q8).
 *
 * @example
 *   const step = gcpAuthStep({ gcp: instance.auth.gcp, instanceName, runtime, dispatcherFor, timeoutMs, logger });
 */
export function gcpAuthStep(args: {
  readonly gcp: GcpAuthConf;
  readonly instanceName: string;
  readonly runtime: ProviderAuthRuntime;
  readonly dispatcherFor: (origin: string) => Dispatcher;
  readonly timeoutMs: number;
  readonly logger: Logger;
}): (draft: UpstreamRequestDraft, context: FinalizeContext) => Promise<UpstreamRequestDraft | SwitchboardError> {
  const { gcp, runtime, instanceName, logger } = args;
  const json = gcp.service_account_json ?? runtime.env.GCP_SERVICE_ACCOUNT;
  if (json === undefined || json === '') {
    const failure = authFailure(
      'failed to get gcp access token: no service account: set auth.gcp.service_account_json or GCP_SERVICE_ACCOUNT',
    );
    return async () => failure;
  }
  const parsed = parsesAsJson(json) ? parseGcpServiceAccount(json) : 'not valid JSON';
  if (typeof parsed === 'string') {
    const failure = authFailure(`invalid gcp service account json: ${parsed}`);
    return async () => failure;
  }
  const account: GcpServiceAccount = parsed;
  const policy: GcpTokenPolicy = {
    expireEarlySecs: gcp.expire_early_secs ?? DEFAULT_EXPIRE_EARLY_SECS,
    maxTtlSecs: gcp.max_ttl,
  };
  const key = cacheKey(json, policy, instanceName);
  const dispatcher = args.dispatcherFor(new URL(account.tokenUri).origin);
  const fetchToken = () =>
    exchangeGcpToken({ account, dispatcher, timeoutMs: args.timeoutMs, nowMs: runtime.wallClock() });

  return async (draft) => {
    let token: string;
    try {
      token = await runtime.gcpTokens.token(key, policy, fetchToken);
    } catch (error) {
      logger.warn(
        { instance: instanceName, reason: error instanceof Error ? error.message : String(error) },
        TOKEN_FAILURE,
      );
      return authFailure(TOKEN_FAILURE);
    }
    return { ...draft, headers: { ...draft.headers, authorization: `Bearer ${token}` } };
  };
}
