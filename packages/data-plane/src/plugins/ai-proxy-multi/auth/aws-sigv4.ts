import { createHash, createHmac } from 'node:crypto';
import { encodePathSegment } from '../providers/provider.js';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** A request as it will go on the wire; header names lower-case. */
export interface AwsSigningRequest {
  readonly method: string;
  /** The authority signed as `host`: `Host` header if the request sets one, else the connect host[:port]. */
  readonly host: string;
  /** Path and optional query, as built so far (segments may already be percent-encoded). */
  readonly pathAndQuery: string;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string | Buffer;
}

export interface AwsSigningScope {
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** The service's endpoint prefix (`bedrock`). */
  readonly service: string;
  /** Wall-clock milliseconds of the signature. */
  readonly nowMs: number;
}

/** What signing produced: the wire path/query to send and the headers to add. */
export interface AwsSignedRequest {
  readonly pathAndQuery: string;
  /** `authorization`, `x-amz-date` and, with a session token, `x-amz-security-token`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The intermediate forms, for tests and debugging. */
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function safeDecode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

/** `20150830T123600Z` */
export function amzDate(nowMs: number): string {
  return new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The query as RFC 3986 pairs, in their order (`+` read as a space, as URLSearchParams wrote it). */
function queryPairs(query: string): Array<[string, string]> {
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const [name, value] = equals === -1 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    return [
      encodePathSegment(safeDecode(name.replace(/\+/g, ' '))),
      encodePathSegment(safeDecode(value.replace(/\+/g, ' '))),
    ];
  });
}

/** Header values trimmed with inner runs of spaces collapsed; repeated fields joined by commas. */
function canonicalHeaderValue(value: string | readonly string[]): string {
  const joined = typeof value === 'string' ? value : value.join(',');
  return joined.trim().replace(/\s+/g, ' ');
}

/**
 * The headers signed: `host`, `content-type` and every `x-amz-*` one. Others (user agents, client
 * headers a proxy may legitimately change) stay unsigned, which AWS allows.
 */
function signedHeaderEntries(
  request: AwsSigningRequest,
  added: Readonly<Record<string, string>>,
): Array<[string, string]> {
  const entries = new Map<string, string>([['host', request.host]]);
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'content-type' || name.startsWith('x-amz-')) entries.set(name, canonicalHeaderValue(value));
  }
  for (const [name, value] of Object.entries(added)) entries.set(name, value);
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Signs a request with AWS Signature Version 4 (AWS General Reference, "Signature Version 4 signing
 * process"; ai-proxy-multi.md §4.9). The wire path is normalised to one encoding per segment; the
 * canonical URI encodes each segment once more, as every service but S3 expects (so a model id
 * `a:0` is `a%3A0` on the wire and `a%253A0` in the canonical request). The payload hash covers the
 * exact body bytes.
 *
 * @example
 *   const signed = signAwsRequest(
 *     { method: 'POST', host: 'bedrock-runtime.us-east-1.amazonaws.com', pathAndQuery: '/model/m/converse', headers: { 'content-type': 'application/json' }, body },
 *     { credentials, region: 'us-east-1', service: 'bedrock', nowMs: Date.now() },
 *   );
 *   send({ path: signed.pathAndQuery, headers: { ...headers, ...signed.headers } });
 */
export function signAwsRequest(request: AwsSigningRequest, scope: AwsSigningScope): AwsSignedRequest {
  const questionMark = request.pathAndQuery.indexOf('?');
  const rawPath = questionMark === -1 ? request.pathAndQuery : request.pathAndQuery.slice(0, questionMark);
  const rawQuery = questionMark === -1 ? '' : request.pathAndQuery.slice(questionMark + 1);

  const wireSegments = (rawPath === '' ? '/' : rawPath)
    .split('/')
    .map((segment) => encodePathSegment(safeDecode(segment)));
  const wirePath = wireSegments.join('/');
  const canonicalUri = wireSegments.map(encodePathSegment).join('/');
  const pairs = queryPairs(rawQuery);
  const wireQuery = pairs.map(([name, value]) => `${name}=${value}`).join('&');
  const canonicalQuery = [...pairs]
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

  const date = amzDate(scope.nowMs);
  const added: Record<string, string> = { 'x-amz-date': date };
  if (scope.credentials.sessionToken !== undefined) added['x-amz-security-token'] = scope.credentials.sessionToken;
  const signed = signedHeaderEntries(request, added);
  const signedHeaders = signed.map(([name]) => name).join(';');

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri,
    canonicalQuery,
    `${signed.map(([name, value]) => `${name}:${value}`).join('\n')}\n`,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const credentialScope = `${date.slice(0, 8)}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, date, credentialScope, sha256Hex(canonicalRequest)].join('\n');

  const dateKey = hmac(`AWS4${scope.credentials.secretAccessKey}`, date.slice(0, 8));
  const signingKey = hmac(hmac(hmac(dateKey, scope.region), scope.service), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');

  return {
    pathAndQuery: wireQuery === '' ? wirePath : `${wirePath}?${wireQuery}`,
    headers: {
      ...added,
      authorization: `${ALGORITHM} Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    canonicalRequest,
    stringToSign,
    signature,
  };
}
