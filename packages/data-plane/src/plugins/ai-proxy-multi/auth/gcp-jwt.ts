import { sign } from 'node:crypto';
import type { GcpServiceAccount } from './gcp-service-account.js';

/** The assertion is valid for an hour, Google's maximum (§4.8). */
const ASSERTION_LIFETIME_SECONDS = 3600;

const base64Url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * The signed JWT a service account exchanges for an access token (RFC 7523, ai-proxy-multi.md §4.8):
 * header `{"alg":"RS256","typ":"JWT"}`, claims `iss` = client_email, `aud` = token_uri, `scope`,
 * `iat` = now, `exp` = now + 3600, signed RS256 with the account's key.
 *
 * @example
 *   const assertion = gcpJwtAssertion(account, Date.now());
 */
export function gcpJwtAssertion(account: GcpServiceAccount, nowMs: number): string {
  const issuedAt = Math.floor(nowMs / 1000);
  const header = base64Url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64Url(
    JSON.stringify({
      iss: account.clientEmail,
      aud: account.tokenUri,
      scope: account.scope,
      iat: issuedAt,
      exp: issuedAt + ASSERTION_LIFETIME_SECONDS,
    }),
  );
  const signingInput = `${header}.${claims}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), account.privateKey);
  return `${signingInput}.${base64Url(signature)}`;
}
