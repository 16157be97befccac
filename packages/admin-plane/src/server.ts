import type { AdminDeploymentConfig, ConfigStore, DataEncryptionConfig } from '@switchboard/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AdminContext } from './admin-context.js';
import { createAllowAdminHook } from './allow-admin.js';
import { createAdminAuthHook } from './auth.js';
import { registerRawBodyParser } from './body.js';
import { createAdminDispatch } from './dispatch.js';
import { adminError, createAdminErrorHandler } from './errors.js';
import { createPreflightHook, createResponseHeadersHook } from './headers.js';
import { createResourceSecrets } from './secrets.js';
import { typeboxValidatorCompiler } from './typebox-validator.js';
import { readAdminPlaneVersion } from './version.js';

export interface AdminServerOptions {
  readonly admin: AdminDeploymentConfig;
  readonly dataEncryption: DataEncryptionConfig;
  readonly store: ConfigStore;
  /** The etcd key prefix (`deployment.etcd.prefix`), `/apisix` by default. */
  readonly prefix?: string;
  readonly logger?: FastifyBaseLogger;
  /** Epoch milliseconds, `Date.now` by default; timestamps are stored in whole seconds (§2.4). */
  readonly clock?: () => number;
  /** `apisix.enable_server_tokens`: `Server: APISIX/<version>` when true (default), `APISIX` when false. */
  readonly serverTokens?: boolean;
}

const ADMIN_BASE = '/apisix/admin';
const RESOURCE_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'] as const;

function createFastify(logger: FastifyBaseLogger | undefined): FastifyInstance {
  // HEAD routes are not derived from GET: APISIX answers HEAD only on the exact `/apisix/admin`.
  return logger === undefined
    ? Fastify({ logger: false, exposeHeadRoutes: false })
    : Fastify({ loggerInstance: logger, exposeHeadRoutes: false });
}

/**
 * Builds the Admin API (admin-api.md §1–§4) as a Fastify instance that is not listening yet; the CLI
 * calls `listen` with `deployment.admin.admin_listen`.
 * @example
 * const app = await createAdminServer({ admin, dataEncryption, store });
 * await app.listen({ host: admin.admin_listen.ip, port: admin.admin_listen.port });
 */
export async function createAdminServer(options: AdminServerOptions): Promise<FastifyInstance> {
  const app = createFastify(options.logger);
  const clock = options.clock ?? Date.now;
  const ctx: AdminContext = {
    store: options.store,
    prefix: options.prefix ?? '/apisix',
    secrets: createResourceSecrets(options.dataEncryption, app.log),
    nowSeconds: () => Math.floor(clock() / 1000),
    logger: app.log,
  };
  const cors = options.admin.enable_admin_cors;

  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.setErrorHandler(createAdminErrorHandler(app.log));
  app.setNotFoundHandler(() => {
    throw adminError('SB_ADMIN_NOT_FOUND');
  });
  // Order matters: headers first so every answer carries them, then allow_admin (before anything
  // else, §1.3), then the CORS preflight (no token, §1.4).
  app.addHook(
    'onRequest',
    createResponseHeadersHook({ serverTokens: options.serverTokens ?? true, version: readAdminPlaneVersion(), cors }),
  );
  app.addHook('onRequest', createAllowAdminHook(options.admin.allow_admin));
  app.addHook('onRequest', createPreflightHook({ cors }));
  registerRawBodyParser(app);

  // §1.1: `HEAD /apisix/admin` answers 200 with no body and no token check.
  app.head(ADMIN_BASE, async (_request, reply) => {
    void reply.header('content-type', 'application/json').code(200).send();
  });

  const authHook = createAdminAuthHook(options.admin, app.log);
  await app.register(async (resources) => {
    resources.addHook('onRequest', authHook);
    resources.route({ method: [...RESOURCE_METHODS], url: `${ADMIN_BASE}/*`, handler: createAdminDispatch(ctx) });
  });
  return app;
}
