import type { AiRateLimitingConf } from '@switchboard/core';
import { QuotaStoreUnavailableError } from './redis-quota-store-error.js';

/**
 * Where the `redis*` policies of ai-rate-limiting keep their counters, in the plugin's own APISIX field
 * names (admin-api.md §8.1), and the settings a client is built from. The plugin conf can be passed as
 * it is once its `policy` is narrowed: fields that do not affect the connection are ignored, so routes
 * with different limits share one client.
 */

/** The connection fields of a policy, typed from the plugin's one schema (AiRateLimitingSchema). */
type ConfFields<K extends keyof AiRateLimitingConf> = Readonly<Pick<AiRateLimitingConf, K>>;

export type RedisStandaloneConnection = { readonly policy: 'redis'; readonly redis_host: string } & ConfFields<
  | 'redis_port'
  | 'redis_username'
  | 'redis_password'
  | 'redis_database'
  | 'redis_timeout'
  | 'redis_ssl'
  | 'redis_ssl_verify'
  | 'redis_keepalive_timeout'
  | 'redis_keepalive_pool'
>;

/** `redis_cluster_nodes` are seed nodes, `host:port` (`[::1]:7000` for IPv6); `redis_cluster_name` only labels logs. */
export type RedisClusterConnection = {
  readonly policy: 'redis-cluster';
  readonly redis_cluster_nodes: readonly string[];
} & ConfFields<
  | 'redis_cluster_name'
  | 'redis_password'
  | 'redis_timeout'
  | 'redis_cluster_ssl'
  | 'redis_cluster_ssl_verify'
  | 'redis_keepalive_timeout'
  | 'redis_keepalive_pool'
>;

/** `redis_role: slave` reads from a replica as APISIX would; counters are written, so use `master`. */
export type RedisSentinelConnection = {
  readonly policy: 'redis-sentinel';
  readonly redis_sentinels: readonly { readonly host: string; readonly port: number }[];
  readonly redis_master_name: string;
} & ConfFields<
  | 'redis_role'
  | 'redis_connect_timeout'
  | 'redis_read_timeout'
  | 'redis_keepalive_timeout'
  | 'redis_username'
  | 'redis_password'
  | 'redis_database'
  | 'sentinel_username'
  | 'sentinel_password'
>;

export type RedisQuotaConnection = RedisStandaloneConnection | RedisClusterConnection | RedisSentinelConnection;

/** APISIX's defaults (admin-api.md §8.1), applied when the conf did not go through the schema. */
const DEFAULTS = { port: 6379, database: 0, timeoutMs: 1000 } as const;

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisCredentials {
  readonly username?: string;
  readonly password?: string;
}

/** TLS to Redis; absent means plain TCP. */
export interface RedisTls {
  readonly rejectUnauthorized: boolean;
}

/** Resolved settings: defaults applied, only what shapes the connection. */
export type RedisQuotaTarget =
  | {
      readonly policy: 'redis';
      readonly node: RedisAddress;
      readonly auth: RedisCredentials;
      readonly database: number;
      readonly tls?: RedisTls;
      readonly connectTimeoutMs: number;
      readonly commandTimeoutMs: number;
    }
  | {
      readonly policy: 'redis-cluster';
      readonly nodes: readonly RedisAddress[];
      readonly auth: RedisCredentials;
      readonly tls?: RedisTls;
      readonly connectTimeoutMs: number;
      readonly commandTimeoutMs: number;
    }
  | {
      readonly policy: 'redis-sentinel';
      readonly sentinels: readonly RedisAddress[];
      readonly masterName: string;
      readonly role: 'master' | 'slave';
      readonly auth: RedisCredentials;
      readonly sentinelAuth: RedisCredentials;
      readonly database: number;
      readonly connectTimeoutMs: number;
      readonly commandTimeoutMs: number;
    };

/**
 * @example
 *   resolveRedisQuotaTarget({ policy: 'redis', redis_host: '10.0.0.5' })
 *   // { policy: 'redis', node: { host: '10.0.0.5', port: 6379 }, database: 0, connectTimeoutMs: 1000, … }
 */
export function resolveRedisQuotaTarget(connection: RedisQuotaConnection): RedisQuotaTarget {
  switch (connection.policy) {
    case 'redis': {
      const timeoutMs = connection.redis_timeout ?? DEFAULTS.timeoutMs;
      return {
        policy: 'redis',
        node: { host: connection.redis_host, port: connection.redis_port ?? DEFAULTS.port },
        auth: credentials(connection.redis_username, connection.redis_password),
        database: connection.redis_database ?? DEFAULTS.database,
        ...tls(connection.redis_ssl, connection.redis_ssl_verify),
        connectTimeoutMs: timeoutMs,
        commandTimeoutMs: timeoutMs,
      };
    }
    case 'redis-cluster': {
      const timeoutMs = connection.redis_timeout ?? DEFAULTS.timeoutMs;
      return {
        policy: 'redis-cluster',
        nodes: connection.redis_cluster_nodes.map(parseClusterNode),
        // APISIX's cluster policy has no username field.
        auth: credentials(undefined, connection.redis_password),
        ...tls(connection.redis_cluster_ssl, connection.redis_cluster_ssl_verify),
        connectTimeoutMs: timeoutMs,
        commandTimeoutMs: timeoutMs,
      };
    }
    case 'redis-sentinel':
      return {
        policy: 'redis-sentinel',
        sentinels: connection.redis_sentinels.map(({ host, port }) => ({ host, port })),
        masterName: connection.redis_master_name,
        role: connection.redis_role ?? 'master',
        auth: credentials(connection.redis_username, connection.redis_password),
        sentinelAuth: credentials(connection.sentinel_username, connection.sentinel_password),
        database: connection.redis_database ?? DEFAULTS.database,
        connectTimeoutMs: connection.redis_connect_timeout ?? DEFAULTS.timeoutMs,
        commandTimeoutMs: connection.redis_read_timeout ?? DEFAULTS.timeoutMs,
      };
  }
}

/** Equal for confs that would open the same connection (node order does not matter). */
export function redisQuotaTargetKey(target: RedisQuotaTarget): string {
  switch (target.policy) {
    case 'redis':
      return JSON.stringify(target);
    case 'redis-cluster':
      return JSON.stringify({ ...target, nodes: [...target.nodes].sort(compareAddresses) });
    case 'redis-sentinel':
      return JSON.stringify({ ...target, sentinels: [...target.sentinels].sort(compareAddresses) });
  }
}

/** Names the target in logs and errors, without credentials. */
export function describeRedisQuotaTarget(target: RedisQuotaTarget): string {
  switch (target.policy) {
    case 'redis':
      return `redis ${formatAddress(target.node)}/${target.database}`;
    case 'redis-cluster':
      return `redis-cluster ${target.nodes.map(formatAddress).join(',')}`;
    case 'redis-sentinel':
      return `redis-sentinel ${target.masterName} (${target.role}) via ${target.sentinels.map(formatAddress).join(',')}`;
  }
}

/** `host:port`, `[v6]:port`; a seed without a port means 6379. */
function parseClusterNode(node: string): RedisAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(node);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3] ?? DEFAULTS.port);
  if (host === undefined || port < 1 || port > 65535) {
    throw new QuotaStoreUnavailableError(
      'redis-cluster',
      `invalid redis_cluster_nodes entry "${node}": expected host:port`,
    );
  }
  return { host, port };
}

function credentials(username: string | undefined, password: string | undefined): RedisCredentials {
  return {
    ...(username === undefined ? {} : { username }),
    // APISIX accepts an empty password and then sends no AUTH.
    ...(password === undefined || password === '' ? {} : { password }),
  };
}

function tls(enabled: boolean | undefined, verify: boolean | undefined): { tls?: RedisTls } {
  return enabled === true ? { tls: { rejectUnauthorized: verify === true } } : {};
}

function formatAddress(address: RedisAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function compareAddresses(a: RedisAddress, b: RedisAddress): number {
  return a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1;
}
