import { isSwitchboardError } from '@switchboard/core';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendJson } from './reply.js';

/**
 * Every error the Admin API answers with, in one table with stable codes (STYLE §10, fastify's
 * `lib/errors.js`). Bodies reproduce APISIX's texts (admin-api.md §1.6); the table is the only place
 * they are spelled out. DECISIONS.md: every admin error is JSON and carries no double spaces.
 */
export type AdminErrorBody = Readonly<Record<string, string>>;

/** The request body limit of APISIX's admin handler (admin-api.md §1.5). */
export const MAX_ADMIN_BODY_BYTES = 1_572_864;

type TokenProblem = 'missing apikey' | 'wrong apikey' | 'invalid method for role viewer';

const errorMessage = (message: string): AdminErrorBody => ({ error_msg: message });

export const ADMIN_ERRORS = {
  /** allow_admin refused the client address (§1.3); nginx answers before any Lua runs. */
  SB_ADMIN_FORBIDDEN: { status: 403, body: () => errorMessage('forbidden') },
  /** §1.2 steps 4–6. */
  SB_ADMIN_TOKEN: {
    status: 401,
    body: (description: TokenProblem) => ({ error_msg: 'failed to check token', description }),
  },
  SB_ADMIN_UNSUPPORTED_RESOURCE: {
    status: 404,
    body: (segment: string) => errorMessage(`Unsupported resource type: ${segment}`),
  },
  /** No handler for this path or method; APISIX answers a bare nginx 404 or `not found`. */
  SB_ADMIN_NOT_FOUND: { status: 404, body: () => errorMessage('not found') },
  SB_ADMIN_METHOD_NOT_SUPPORTED: {
    status: 405,
    body: (method: string, kind: string) => errorMessage(`not supported \`${method}\` method for ${kind}`),
  },
  SB_ADMIN_BODY_TOO_LARGE: {
    status: 400,
    body: (size: number) =>
      errorMessage(
        `invalid request body: request size ${size} is greater than the maximum size ${MAX_ADMIN_BODY_BYTES} allowed`,
      ),
  },
  SB_ADMIN_BODY_NOT_JSON: {
    status: 400,
    body: (decoderError: string, rawBody: string) => ({
      error_msg: `invalid request body: ${decoderError}`,
      req_body: rawBody,
    }),
  },
  /** A query argument that cannot be used (`ttl`, `page_size`, a filter regex); names the argument. */
  SB_ADMIN_INVALID_ARGUMENT: { status: 400, body: (message: string) => errorMessage(message) },
  SB_ADMIN_MISSING_CONFIGURATIONS: { status: 400, body: () => errorMessage('missing configurations') },
  SB_ADMIN_MISSING_NEW_CONFIGURATION: { status: 400, body: () => errorMessage('missing new configuration') },
  SB_ADMIN_PATCH_NOT_OBJECT: { status: 400, body: () => errorMessage('invalid configuration') },
  SB_ADMIN_INVALID_SUB_PATH: {
    status: 400,
    body: (subPath: string) => errorMessage(`invalid sub-path: /${subPath}`),
  },
  SB_ADMIN_MISSING_ID: { status: 400, body: (kind: string) => errorMessage(`missing ${kind} id`) },
  SB_ADMIN_ID_NOT_NEEDED: { status: 400, body: (kind: string) => errorMessage(`wrong ${kind} id, do not need it`) },
  SB_ADMIN_WRONG_ID: { status: 400, body: (kind: string) => errorMessage(`wrong ${kind} id`) },
  SB_ADMIN_WRONG_USERNAME: { status: 400, body: () => errorMessage('wrong username') },
  /** `create_time`/`update_time` in a PUT/POST body (§2.3 step 4); `path` is `create_time`, `upstream.create_time`, … */
  SB_ADMIN_FORBIDDEN_PROPERTY: {
    status: 400,
    body: (path: string) => errorMessage(`the property is forbidden: ${path}`),
  },
  /** A message from core's resource checkers, already complete (`invalid configuration: …`, `unknown plugin [x]`). */
  SB_ADMIN_INVALID_CONFIGURATION: { status: 400, body: (message: string) => errorMessage(message) },
  SB_ADMIN_REFERENCE_MISSING: {
    status: 400,
    body: (what: string, id: string) => errorMessage(`failed to fetch ${what} [${id}], response code: 404`),
  },
  SB_ADMIN_DUPLICATE_KEY: { status: 400, body: (message: string) => errorMessage(message) },
  SB_ADMIN_IN_USE: { status: 400, body: (message: string) => errorMessage(message) },
  /** §1.7: the one body that uses `message` instead of `error_msg`. */
  SB_ADMIN_KEY_NOT_FOUND: { status: 404, body: (): AdminErrorBody => ({ message: 'Key not found' }) },
  SB_ADMIN_CONSUMER_NOT_FOUND: { status: 404, body: () => errorMessage('consumer not found') },
  SB_ADMIN_PLUGIN_NOT_FOUND: { status: 404, body: () => errorMessage('plugin not found') },
  /** PATCH lost its compare-and-swap (§2.5 step 8). */
  SB_ADMIN_VALUE_CHANGED: { status: 503, body: () => errorMessage('value changed before overwritten') },
} as const satisfies Record<string, { status: number; body: (...args: never[]) => AdminErrorBody }>;

type AdminErrorTable = typeof ADMIN_ERRORS;
export type AdminErrorCode = keyof AdminErrorTable;

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly status: number;
  readonly body: AdminErrorBody;

  constructor(code: AdminErrorCode, status: number, body: AdminErrorBody) {
    super(body.error_msg ?? body.message ?? code);
    this.name = 'AdminError';
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

/**
 * Builds the error for a table entry.
 * @example throw adminError('SB_ADMIN_WRONG_ID', 'route') // 400 {"error_msg":"wrong route id"}
 */
export function adminError<C extends AdminErrorCode>(
  code: C,
  ...args: Parameters<AdminErrorTable[C]['body']>
): AdminError {
  const entry = ADMIN_ERRORS[code];
  const buildBody = entry.body as (...values: Parameters<AdminErrorTable[C]['body']>) => AdminErrorBody;
  return new AdminError(code, entry.status, buildBody(...args));
}

/** Fastify's own errors (FST_ERR_*) carry a numeric status; anything else is our bug or a dependency's. */
function statusOf(error: FastifyError): number {
  const status = error.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

/**
 * The one error handler of the Admin API. Every answer is JSON that names the cause: a store outage
 * is `503 {"error_msg":"<store error>"}` (§1.6, §5.7); an unexpected error keeps its message too,
 * because a generic 500 would hide what went wrong from the operator.
 */
export function createAdminErrorHandler(logger: FastifyBaseLogger) {
  return function handleAdminError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    if (error instanceof AdminError) {
      sendJson(reply, error.status, error.body);
      return;
    }
    if (isSwitchboardError(error)) {
      logger.error({ err: error, code: error.code, url: request.url }, 'admin request failed');
      sendJson(reply, error.status, { error_msg: error.message });
      return;
    }
    const status = statusOf(error);
    if (status >= 500) logger.error({ err: error, url: request.url }, 'admin request failed');
    sendJson(reply, status, { error_msg: error.message });
  };
}
