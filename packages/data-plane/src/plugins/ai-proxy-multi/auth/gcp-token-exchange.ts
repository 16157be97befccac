import type { Dispatcher } from 'undici';
import { gcpJwtAssertion } from './gcp-jwt.js';
import type { GcpServiceAccount } from './gcp-service-account.js';

/** An access token and how long Google says it lives. */
export interface GcpAccessToken {
  readonly accessToken: string;
  /** Seconds; undefined when the answer had no usable `expires_in`. */
  readonly expiresInSeconds: number | undefined;
}

/** Why an exchange failed, for the log; the client only sees APISIX's fixed message. */
export class GcpTokenExchangeError extends Error {
  override readonly name = 'GcpTokenExchangeError';
}

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Exchanges a fresh signed assertion for an access token at the account's `token_uri` (RFC 7523 §2.1,
 * ai-proxy-multi.md §4.8): `POST`, form body `grant_type=…jwt-bearer&assertion=<JWT>`. Anything but a
 * 200 with a JSON `access_token` is a GcpTokenExchangeError. `dispatcher` is the pooled one for the
 * token URI's origin; `timeoutMs` bounds each socket operation like the plugin's `timeout`.
 *
 * @example
 *   const token = await exchangeGcpToken({ account, dispatcher, timeoutMs: 30000, nowMs: Date.now() });
 */
export async function exchangeGcpToken(args: {
  readonly account: GcpServiceAccount;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly nowMs: number;
}): Promise<GcpAccessToken> {
  const { account, dispatcher, timeoutMs } = args;
  const tokenUrl = new URL(account.tokenUri);
  const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: gcpJwtAssertion(account, args.nowMs) });
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      origin: tokenUrl.origin,
      path: `${tokenUrl.pathname}${tokenUrl.search}`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (error) {
    throw new GcpTokenExchangeError(`token request to ${tokenUrl.origin} failed: ${String(error)}`, { cause: error });
  }
  const text = await response.body.text().catch(() => '');
  if (response.statusCode !== 200) {
    throw new GcpTokenExchangeError(`token endpoint answered ${response.statusCode}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new GcpTokenExchangeError('token endpoint answered with a body that is not JSON');
  }
  const record = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : {};
  const accessToken = record.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new GcpTokenExchangeError('token endpoint answer has no access_token');
  }
  const expiresIn = record.expires_in;
  return {
    accessToken,
    expiresInSeconds:
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined,
  };
}
