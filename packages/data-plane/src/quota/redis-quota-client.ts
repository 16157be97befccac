import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { describeRedisQuotaTarget, type RedisQuotaTarget } from './redis-quota-connection.js';
import { defineQuotaScripts, type QuotaScriptClient } from './redis-quota-scripts.js';
import { QuotaStoreUnavailableError } from './redis-quota-store-error.js';

/**
 * One ioredis connection (standalone, cluster or sentinel-fronted) set up to fail fast: a quota check
 * sits on the request path, so while Redis is away every operation rejects within the timeouts instead
 * of queueing, and the client keeps reconnecting in the background so service resumes by itself.
 *
 * - `enableOfflineQueue: false`: nothing waits for a connection that is down (a queued reserve would
 *   also run late, charging a counter for a request that was already refused).
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: commands in flight when the
 *   connection drops are rejected, not replayed on the next connection.
 * - `commandTimeout` plus a deadline of our own (a cluster retries redirections and failovers inside
 *   one command): an operation never outlives the command timeout.
 * - Only while the first connection is being made does an operation wait for it, at most the connect
 *   timeout; once Redis was found unreachable, operations reject at once until it is back.
 */
export interface RedisQuotaClient {
  /** `redis 10.0.0.5:6379/0`, for logs and errors. */
  readonly description: string;
  /** Runs `operation` once connected, within the timeouts; any failure is a QuotaStoreUnavailableError. */
  run<T>(operation: (scripts: QuotaScriptClient) => Promise<T>): Promise<T>;
  /** Ends the connection (QUIT, then disconnect if Redis does not answer). */
  close(): Promise<void>;
}

export interface RedisQuotaClientOptions {
  /** Connection lost / restored, once per transition (not per reconnect attempt). */
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

/** Reconnect backoff: quick first retries, then once a second. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * attempt, 1000);
}

/** Statuses in which a connection attempt is under way (ioredis `Redis` and `Cluster` alike). */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

export function createRedisQuotaClient(
  target: RedisQuotaTarget,
  options: RedisQuotaClientOptions = {},
): RedisQuotaClient {
  const description = describeRedisQuotaTarget(target);
  const client = connect(target);
  const scripts = defineQuotaScripts(client);
  const readiness = watchReadiness(client, description, options.logger);

  const fail = (reason: string, cause?: unknown): QuotaStoreUnavailableError =>
    new QuotaStoreUnavailableError(description, reason, cause === undefined ? undefined : { cause });

  return {
    description,
    async run(operation) {
      await readiness.ready(target.connectTimeoutMs, fail);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(fail(`no answer within ${target.commandTimeoutMs} ms`)),
          target.commandTimeoutMs,
        );
      });
      try {
        return await Promise.race([operation(scripts), deadline]);
      } catch (error) {
        if (error instanceof QuotaStoreUnavailableError) throw error;
        throw fail(error instanceof Error ? error.message : String(error), error);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      readiness.stop();
      if (client.status === 'end') return;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

function connect(target: RedisQuotaTarget): Redis | Cluster {
  const failFast = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: target.connectTimeoutMs,
    commandTimeout: target.commandTimeoutMs,
    retryStrategy: reconnectDelayMs,
  } satisfies RedisOptions;
  switch (target.policy) {
    case 'redis':
      return new Redis({
        ...failFast,
        host: target.node.host,
        port: target.node.port,
        db: target.database,
        ...target.auth,
        ...(target.tls === undefined ? {} : { tls: { ...target.tls, servername: target.node.host } }),
      });
    case 'redis-cluster': {
      const { enableOfflineQueue, retryStrategy, ...nodeOptions } = failFast;
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: target.connectTimeoutMs,
        redisOptions: { ...nodeOptions, ...target.auth, ...(target.tls === undefined ? {} : { tls: target.tls }) },
      };
      return new Cluster(
        target.nodes.map(({ host, port }) => ({ host, port })),
        clusterOptions,
      );
    }
    case 'redis-sentinel':
      return new Redis({
        ...failFast,
        sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
        name: target.masterName,
        role: target.role,
        db: target.database,
        ...target.auth,
        ...(target.sentinelAuth.username === undefined ? {} : { sentinelUsername: target.sentinelAuth.username }),
        ...(target.sentinelAuth.password === undefined ? {} : { sentinelPassword: target.sentinelAuth.password }),
        sentinelCommandTimeout: target.connectTimeoutMs,
        sentinelRetryStrategy: reconnectDelayMs,
      });
  }
}

interface Readiness {
  /** Resolves when connected; waits for an attempt under way up to `timeoutMs`; else rejects. */
  ready(timeoutMs: number, fail: (reason: string, cause?: unknown) => Error): Promise<void>;
  stop(): void;
}

/**
 * Follows the client's status. Waiters share one promise per connection attempt (no listener per
 * request), and the last connection error is kept to say why an operation was refused.
 */
function watchReadiness(
  client: Redis | Cluster,
  description: string,
  logger: RedisQuotaClientOptions['logger'],
): Readiness {
  let lastError: Error | undefined;
  let wasReady = false;
  /** An outage was logged and its end was not yet. */
  let reportedDown = false;
  let stopped = false;
  let attempt: { promise: Promise<boolean>; settle: (connected: boolean) => void } | undefined;

  const settleAttempt = (connected: boolean): void => {
    attempt?.settle(connected);
    attempt = undefined;
  };
  const onReady = (): void => {
    if (reportedDown) logger?.info({ store: description }, 'quota counters: Redis connected again');
    reportedDown = false;
    wasReady = true;
    lastError = undefined;
    settleAttempt(true);
  };
  const reportDown = (): void => {
    if (reportedDown || stopped) return;
    reportedDown = true;
    const what = wasReady ? 'connection lost' : 'not reachable';
    logger?.warn({ store: description, err: lastError }, `quota counters: Redis ${what}; reconnecting`);
  };
  const onClose = (): void => {
    reportDown();
    wasReady = false;
    settleAttempt(false);
  };
  const onError = (error: Error): void => {
    lastError = error;
    reportDown();
  };
  client.on('ready', onReady);
  client.on('close', onClose);
  client.on('end', onClose);
  // Without a listener ioredis prints every connection error; the state is reported above instead.
  client.on('error', onError);
  client.on('node error', onError);

  const because = (): string => (lastError === undefined ? '' : ` (${lastError.message})`);

  return {
    async ready(timeoutMs, fail) {
      if (client.status === 'ready') return;
      // During a known outage nothing waits for the next attempt: requests are refused at once.
      if (!CONNECTING.has(client.status) || reportedDown) throw fail(`not connected${because()}`, lastError);
      if (attempt === undefined) {
        let settle: (connected: boolean) => void = () => {};
        const promise = new Promise<boolean>((resolve) => {
          settle = resolve;
        });
        attempt = { promise, settle };
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([attempt.promise, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') throw fail(`not connected within ${timeoutMs} ms${because()}`, lastError);
      if (!outcome) throw fail(`connecting failed${because()}`, lastError);
    },
    stop() {
      stopped = true;
      settleAttempt(false);
    },
  };
}
