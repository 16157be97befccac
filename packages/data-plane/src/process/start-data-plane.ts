import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  type ConfigFile,
  type ConfigSource,
  MemoryQuotaCounters,
  resolveNodeListen,
  resolveWorkerCount,
} from '@switchboard/core';
import type { Logger } from 'pino';
import { createSnapshotHealthBoard } from '../health/health-board.js';
import { createNodeHealth, type NodeHealth } from '../health/node-health.js';
import type { HostLookup } from '../health/resolve-targets.js';
import type { ProviderEnv } from '../plugins/ai-proxy-multi/auth/provider-auth-runtime.js';
import { createRuntimePluginRegistry } from '../plugins/registry.js';
import { redisQuotaStoresFor } from '../quota/redis-quota-policies.js';
import { createRedisQuotaStores } from '../quota/redis-quota-stores.js';
import { createAccessLog } from '../server/access-log.js';
import { closeServer, createProxyServer, listenOn } from '../server/proxy-server.js';
import { createStatusServer, type NodeReadiness } from '../server/status-server.js';
import { fanOutConfigListener, withExtraListener } from './fan-out-config-source.js';
import { startWorkerSupervisor } from './worker-supervisor.js';

export interface StartDataPlaneOptions {
  /** The validated, defaulted config.yaml. */
  readonly config: ConfigFile;
  /** Started here, never closed here: its owner closes it (the embedded store also serves the Admin API). */
  readonly source: ConfigSource;
  readonly prefix: string;
  readonly logger: Logger;
  /** Overrides `nginx_config.worker_processes`; 0 serves in this process without a cluster. */
  readonly workers?: number;
  /** Environment values LLM providers read (`GCP_SERVICE_ACCOUNT`): the CLI reads them (STYLE §8). */
  readonly providerEnv?: ProviderEnv;
  /** Resolves health-checked hosts to all their addresses (§2.10); node's `dns.lookup` by default. */
  readonly lookupHost?: HostLookup;
}

export interface DataPlane {
  /** Resolves once every worker applied the first full config load (`/status/ready` turns 200). */
  readonly ready: Promise<void>;
  /** Where the proxy listens (one entry per `node_listen` address; per worker in cluster mode). */
  readonly proxyAddresses: readonly AddressInfo[];
  /** Where the status server listens; undefined when `apisix.status.port` is 0 (disabled). */
  readonly statusAddress: AddressInfo | undefined;
  /** Stops the status server and the proxy (workers finish their requests). */
  close(): Promise<void>;
}

/**
 * Starts a node's data plane (architecture.md "Processes per role"): the status server and the node's
 * health service (one prober per node, ai-proxy-multi.md §7) here, and the proxy either in `workers`
 * cluster workers fed over IPC by this process, or in this process when there are none. Resolves once
 * everything listens; `ready` follows the first config load.
 *
 * @example
 *   const plane = await startDataPlane({ config, source: store, prefix: '/apisix', logger });
 *   await plane.ready;
 */
export async function startDataPlane(options: StartDataPlaneOptions): Promise<DataPlane> {
  const workers = options.workers ?? resolveWorkerCount(options.config);
  return workers === 0 ? startInProcess(options) : startClustered(options, workers);
}

function startNodeHealth(options: StartDataPlaneOptions): NodeHealth {
  return createNodeHealth({
    prefix: options.prefix.replace(/\/+$/, ''),
    logger: options.logger,
    dataEncryption: options.config.apisix.data_encryption,
    ...(options.lookupHost === undefined ? {} : { lookup: options.lookupHost }),
  });
}

async function startInProcess(options: StartDataPlaneOptions): Promise<DataPlane> {
  const accessLog = createAccessLog(options.config.nginx_config.http.access_log);
  const health = startNodeHealth(options);
  const board = createSnapshotHealthBoard((key, observation) => health.report(key, observation));
  const redisQuota = createRedisQuotaStores({ logger: options.logger });
  health.subscribe(board.apply);
  const proxy = createProxyServer({
    source: withExtraListener(options.source, health.listener),
    prefix: options.prefix,
    logger: options.logger,
    accessLog,
    dataEncryption: options.config.apisix.data_encryption,
    plugins: createRuntimePluginRegistry({
      random: Math.random,
      now: () => performance.now(),
      health: board.board,
      quotaStores: { local: new MemoryQuotaCounters(Date.now), remote: redisQuotaStoresFor(redisQuota) },
      ...(options.providerEnv === undefined ? {} : { providerEnv: options.providerEnv }),
    }),
  });
  const readiness = (): NodeReadiness => ({
    revision: proxy.fullyLoaded() ? proxy.revision() : 0,
    notReadyWorker: proxy.fullyLoaded() ? undefined : 0,
  });
  try {
    const proxyAddresses = await proxy.listen(resolveNodeListen(options.config));
    const status = await startStatus(options.config, readiness);
    return {
      ready: proxy.ready,
      proxyAddresses,
      statusAddress: status?.address,
      async close() {
        if (status !== undefined) await closeServer(status.server);
        await proxy.close();
        health.close();
        await redisQuota.close();
        accessLog.close();
      },
    };
  } catch (error) {
    await proxy.close();
    health.close();
    await redisQuota.close();
    accessLog.close();
    throw error;
  }
}

async function startClustered(options: StartDataPlaneOptions, count: number): Promise<DataPlane> {
  const health = startNodeHealth(options);
  const supervisor = startWorkerSupervisor({
    count,
    exec: fileURLToPath(new URL('./worker-entry.js', import.meta.url)),
    config: options.config,
    prefix: options.prefix,
    logger: options.logger,
    onPassiveHealth: (key, observation) => health.report(key, observation),
    // One set of ai-rate-limiting `local` counters per node, shared by its workers (DECISIONS).
    quotaCounters: new MemoryQuotaCounters(Date.now),
    ...(options.providerEnv === undefined ? {} : { providerEnv: options.providerEnv }),
  });
  health.subscribe((snapshot) => supervisor.publishHealth(snapshot));
  options.source.start(options.prefix, fanOutConfigListener(supervisor.listener, health.listener));
  try {
    const proxyAddresses = await supervisor.listening;
    const status = await startStatus(options.config, () => supervisor.readiness());
    return {
      ready: supervisor.ready,
      proxyAddresses,
      statusAddress: status?.address,
      async close() {
        if (status !== undefined) await closeServer(status.server);
        health.close();
        await supervisor.close();
      },
    };
  } catch (error) {
    health.close();
    await supervisor.close();
    throw error;
  }
}

async function startStatus(
  config: ConfigFile,
  readiness: () => NodeReadiness,
): Promise<{ server: Server; address: AddressInfo } | undefined> {
  const { ip, port } = config.apisix.status;
  if (port === 0) return undefined;
  const server = createStatusServer(readiness);
  return { server, address: await listenOn(server, { ip, port }) };
}
