import { SwitchboardError } from '@switchboard/core';

/** undici's timeout codes: connect, waiting for headers, and a gap between body chunks. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Short, address-free reasons for the client; the full error goes to the log. */
const CONNECT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
};

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isTlsError(code: string): boolean {
  return (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
  );
}

/**
 * Turns an undici transport failure into the attempt's typed error (ai-proxy-multi.md §3.2): any timeout
 * → 504 SB_ERR_UPSTREAM_TIMEOUT, anything else (refused, reset, DNS, TLS) → 500 SB_ERR_UPSTREAM_CONNECT.
 * `phase` says whether the request was being sent or the response read, for the message.
 *
 * @example
 *   classifyTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'send').message;
 *   // 'failed to send request to LLM server: connection refused'
 */
export function classifyTransportError(error: unknown, phase: 'send' | 'read'): SwitchboardError {
  const code = errorCode(error) ?? '';
  const prefix = phase === 'send' ? 'failed to send request to LLM server' : 'failed to read response from LLM server';
  if (TIMEOUT_CODES.has(code))
    return new SwitchboardError('SB_ERR_UPSTREAM_TIMEOUT', `${prefix}: timeout`, { cause: error });
  const reason = CONNECT_REASONS[code] ?? (isTlsError(code) ? 'TLS handshake failed' : 'connection error');
  return new SwitchboardError('SB_ERR_UPSTREAM_CONNECT', `${prefix}: ${reason}`, { cause: error });
}
