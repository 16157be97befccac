import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AdminDeploymentConfig,
  ConfigStore,
  DataEncryptionConfig,
  EmbeddedStore,
  StoreClock,
} from '@switchboard/core';
import { createEmbeddedStore } from '@switchboard/core';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { createAdminServer } from '../src/index.js';

/** An Admin API over a real embedded store in a temp dir, with an injected clock (STYLE: tests). */

export const ADMIN_KEY = 'edd1c9f034335f136f87ad84b625c8f1';
export const VIEWER_KEY = '4054f7cf07e344346cd3f287985e76a2';
/** 2023-11-14T22:13:20Z, so `create_time` is exactly 1700000000. */
export const START_MS = 1_700_000_000_000;

export const DEFAULT_ADMIN: AdminDeploymentConfig = {
  admin_key_required: true,
  admin_key: [
    { name: 'admin', key: ADMIN_KEY, role: 'admin' },
    { name: 'viewer', key: VIEWER_KEY, role: 'viewer' },
  ],
  admin_listen: { ip: '127.0.0.1', port: 9180 },
  allow_admin: ['127.0.0.0/24'],
  enable_admin_cors: true,
};

export const DEFAULT_ENCRYPTION: DataEncryptionConfig = {
  enable_encrypt_fields: true,
  keyring: ['qeddd145sfvddff3', 'edd1c9f0985e76a2'],
};

/** A store clock whose time only moves when a test says so; due timers fire on `advance`. */
export interface ManualStoreClock extends StoreClock {
  advance(ms: number): void;
}

export function createManualStoreClock(startMs: number): ManualStoreClock {
  let now = startMs;
  let timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    setTimer(callback, delayMs) {
      const timer = { at: now + delayMs, callback, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now && !timer.cancelled);
      timers = timers.filter((timer) => timer.at > now && !timer.cancelled);
      for (const timer of due) timer.callback();
    },
  };
}

export interface AdminHarness {
  readonly app: FastifyInstance;
  readonly store: EmbeddedStore;
  readonly storeClock: ManualStoreClock;
  /** Moves the Admin API's clock (timestamps) forward. */
  advanceSeconds(seconds: number): void;
  call(method: HTTPMethods, path: string, options?: CallOptions): Promise<AdminAnswer>;
  close(): Promise<void>;
}

export interface CallOptions {
  readonly body?: unknown;
  /** Raw body text, sent as is. */
  readonly raw?: string;
  /** `null` sends no key; default the admin key in `X-API-KEY`. */
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
  readonly remoteAddress?: string;
}

export interface AdminAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly json: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export async function injectAdmin(
  app: FastifyInstance,
  method: HTTPMethods,
  path: string,
  options: CallOptions = {},
): Promise<AdminAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) headers['x-api-key'] = key;
  let payload: string | undefined = options.raw;
  if (payload === undefined && options.body !== undefined) payload = JSON.stringify(options.body);
  const response = await app.inject({
    method,
    url: `/apisix/admin${path}`,
    headers,
    ...(payload === undefined ? {} : { payload }),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: response.body,
    json: parseJson(response.body),
  };
}

export async function startAdmin(
  options: {
    readonly admin?: Partial<AdminDeploymentConfig>;
    readonly dataEncryption?: DataEncryptionConfig;
    readonly serverTokens?: boolean;
  } = {},
): Promise<AdminHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sb-admin-'));
  const storeClock = createManualStoreClock(START_MS);
  const store = await createEmbeddedStore({ dataDir, clock: storeClock });
  let nowMs = START_MS;
  const app = await createAdminServer({
    admin: { ...DEFAULT_ADMIN, ...options.admin },
    dataEncryption: options.dataEncryption ?? DEFAULT_ENCRYPTION,
    store,
    clock: () => nowMs,
    ...(options.serverTokens === undefined ? {} : { serverTokens: options.serverTokens }),
  });
  return {
    app,
    store,
    storeClock,
    advanceSeconds: (seconds) => {
      nowMs += seconds * 1000;
    },
    call: (method, path, callOptions) => injectAdmin(app, method, path, callOptions),
    close: async () => {
      await app.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Builds an Admin API over any store (for failure tests). */
export function createAdminOver(
  store: ConfigStore,
  admin: Partial<AdminDeploymentConfig> = {},
): Promise<FastifyInstance> {
  return createAdminServer({ admin: { ...DEFAULT_ADMIN, ...admin }, dataEncryption: DEFAULT_ENCRYPTION, store });
}

/** §10 case 1. */
export const ROUTE = {
  methods: ['GET'],
  upstream: { nodes: { '127.0.0.1:8080': 1 }, type: 'roundrobin' },
  desc: 'new route',
  uri: '/index.html',
} as const;
