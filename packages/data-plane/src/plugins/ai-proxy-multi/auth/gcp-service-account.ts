import { createPrivateKey, type KeyObject } from 'node:crypto';

/** The fields of a Google service-account key file that the token flow uses (ai-proxy-multi.md §4.8). */
export interface GcpServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: KeyObject;
  readonly tokenUri: string;
  /** Space-separated OAuth scopes. */
  readonly scope: string;
}

const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const DEFAULT_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

function stringField(record: Record<string, unknown>, name: string): string | undefined {
  const value = record[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `scope` may be a string or an array of strings joined by spaces (§4.8). */
function scopeOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'))
    return value.join(' ');
  return undefined;
}

/**
 * Parses a service-account JSON once, when the config is prepared: `client_email`, `private_key` (PEM),
 * `token_uri` (default Google's) and an optional `scope` (default cloud-platform). Returns the reason
 * on failure; the reason never quotes the key.
 *
 * @example
 *   const account = parseGcpServiceAccount(fs.readFileSync('sa.json', 'utf8'));
 *   if (typeof account === 'string') throw new Error(account);
 */
export function parseGcpServiceAccount(json: string): GcpServiceAccount | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  const record = parsed as Record<string, unknown>;
  const clientEmail = stringField(record, 'client_email');
  const pem = stringField(record, 'private_key');
  if (clientEmail === undefined) return 'client_email is missing';
  if (pem === undefined) return 'private_key is missing';
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    return 'private_key is not a valid PEM private key';
  }
  const tokenUri = stringField(record, 'token_uri') ?? DEFAULT_TOKEN_URI;
  if (!URL.canParse(tokenUri) || !/^https?:$/.test(new URL(tokenUri).protocol))
    return 'token_uri is not an http(s) URL';
  return { clientEmail, privateKey, tokenUri, scope: scopeOf(record.scope) ?? DEFAULT_SCOPE };
}
