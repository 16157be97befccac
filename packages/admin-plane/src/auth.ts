import { timingSafeEqual } from 'node:crypto';
import type { AdminDeploymentConfig, AdminKey } from '@switchboard/core';
import type { FastifyBaseLogger, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { adminError } from './errors.js';

function firstValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator === -1 || pair.slice(0, separator).trim() !== name) continue;
    const raw = pair.slice(separator + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** §1.2 step 3: query `api_key`, then header `X-API-KEY`, then cookie `x_api_key`; the first present wins. */
export function readAdminToken(request: FastifyRequest): string | undefined {
  return (
    firstValue((request.query as Record<string, unknown> | undefined)?.api_key) ??
    firstValue(request.headers['x-api-key']) ??
    cookieValue(request.headers.cookie, 'x_api_key')
  );
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The admin token check (admin-api.md §1.2). Keys with an empty `key` never match: the CLI replaces
 * an empty key with a generated one before the server starts, and an empty `?api_key=` must not
 * unlock the API.
 * @example app.addHook('onRequest', createAdminAuthHook(config.deployment.admin, logger))
 */
export function createAdminAuthHook(
  admin: Pick<AdminDeploymentConfig, 'admin_key_required' | 'admin_key'>,
  logger: FastifyBaseLogger,
): onRequestAsyncHookHandler {
  if (!admin.admin_key_required || admin.admin_key.length === 0) {
    logger.warn('Admin key is bypassed!');
    return async () => {};
  }
  const keys: readonly AdminKey[] = admin.admin_key.filter((entry) => entry.key !== '');
  return async (request) => {
    const token = readAdminToken(request);
    if (token === undefined) throw adminError('SB_ADMIN_TOKEN', 'missing apikey');
    const match = keys.find((entry) => sameToken(token, entry.key));
    if (match === undefined) throw adminError('SB_ADMIN_TOKEN', 'wrong apikey');
    if (match.role === 'viewer' && request.method !== 'GET') {
      throw adminError('SB_ADMIN_TOKEN', 'invalid method for role viewer');
    }
  };
}
