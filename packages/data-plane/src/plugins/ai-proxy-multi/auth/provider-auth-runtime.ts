import { createGcpTokenCache, type GcpTokenCache } from './gcp-token-cache.js';

/**
 * Environment values providers read, handed down from the CLI (STYLE §8: only the CLI reads
 * `process.env`). `GCP_SERVICE_ACCOUNT` is the service account JSON used when `auth.gcp` has no
 * `service_account_json` (ai-proxy-multi.md §1.5, §4.8).
 */
export interface ProviderEnv {
  readonly GCP_SERVICE_ACCOUNT?: string | undefined;
  /**
   * The process environment as the CLI read it at start, which `$env://NAME` references in `auth`
   * resolve against (§1.5, auth/secret-refs.ts). It travels to the workers in the `init` message.
   */
  readonly variables?: Readonly<Record<string, string | undefined>> | undefined;
}

/** What provider authentication shares across routes and config changes of one worker. */
export interface ProviderAuthRuntime {
  readonly env: ProviderEnv;
  /** Wall-clock milliseconds: JWT `iat`/`exp`, token expiry, the SigV4 date. */
  readonly wallClock: () => number;
  readonly gcpTokens: GcpTokenCache;
}

/**
 * Created once per plugin instance (one per worker), so GCP tokens survive config changes.
 *
 * @example
 *   const runtime = createProviderAuthRuntime({ env: { GCP_SERVICE_ACCOUNT: json }, wallClock: Date.now });
 */
export function createProviderAuthRuntime(deps: {
  readonly env?: ProviderEnv | undefined;
  readonly wallClock?: (() => number) | undefined;
}): ProviderAuthRuntime {
  const wallClock = deps.wallClock ?? Date.now;
  return { env: deps.env ?? {}, wallClock, gcpTokens: createGcpTokenCache({ clock: wallClock }) };
}
