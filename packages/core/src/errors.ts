/**
 * Typed errors with stable codes (STYLE §10). Every code is listed in docs/errors.md and a test keeps
 * the two in agreement. Each plane turns these into responses in exactly one error handler.
 */
export const ERROR_CODES = {
  SB_ERR_STORE_UNAVAILABLE: { status: 503, summary: 'The config store (etcd) could not be reached.' },
  SB_ERR_STORE_CORRUPT: { status: 500, summary: 'The embedded store found a record it cannot read.' },
  SB_ERR_CONFIG_INVALID: { status: 500, summary: 'config.yaml has an invalid value; start-up stops.' },
  SB_ERR_UPSTREAM_CONNECT: { status: 500, summary: 'Connecting to an LLM instance failed.' },
  SB_ERR_UPSTREAM_TIMEOUT: {
    status: 504,
    summary:
      'An LLM instance did not answer in time: `timeout`, `first_token_timeout_ms`, `stall_timeout_ms` or `request_deadline_ms`.',
  },
  SB_ERR_PROVIDER_AUTH: {
    status: 500,
    summary: 'Authenticating to an LLM instance failed (GCP access token, AWS SigV4 signature).',
  },
  SB_ERR_RESPONSE_TOO_LARGE: { status: 502, summary: "An LLM instance's answer is larger than `max_response_bytes`." },
  SB_ERR_STREAM_TOO_LONG: { status: 504, summary: 'A streamed answer ran longer than `max_stream_duration_ms`.' },
  SB_ERR_BAD_UPSTREAM_RESPONSE: {
    status: 502,
    summary: "An LLM instance's answer could not be translated to the client's protocol.",
  },
  SB_ERR_RATE_LIMITED: {
    status: 503,
    summary: "ai-rate-limiting: the instance's token quota is used up (status: `rejected_code`).",
  },
  SB_ERR_QUOTA_STORE_UNAVAILABLE: {
    status: 500,
    summary:
      'ai-rate-limiting could not reach its counters (Redis, or the node primary) and `allow_degradation` is off.',
  },
  SB_ERR_QUOTA_LIMIT_UNRESOLVED: {
    status: 500,
    summary: 'An ai-rate-limiting `limit`/`time_window` variable did not resolve to a positive integer.',
  },
  SB_ERR_ALL_TRIED: { status: 503, summary: 'No instance is left to pick (`all servers tried`).' },
  SB_ERR_BAD_REQUEST: { status: 400, summary: 'The client request cannot be proxied as sent.' },
  SB_ERR_BODY_TOO_LARGE: { status: 413, summary: 'The request body is larger than `max_req_body_size`.' },
  SB_ERR_PLUGIN_FAILED: { status: 500, summary: 'A plugin threw while handling a request; the worker keeps serving.' },
  SB_ERR_INTERNAL: { status: 500, summary: 'The request pipeline itself failed outside any plugin.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchboardError';
    this.code = code;
    this.status = options?.status ?? ERROR_CODES[code].status;
  }
}

export function isSwitchboardError(error: unknown, code?: ErrorCode): error is SwitchboardError {
  return error instanceof SwitchboardError && (code === undefined || error.code === code);
}
