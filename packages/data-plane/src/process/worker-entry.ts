import cluster from 'node:cluster';
import { resolveNodeListen } from '@switchboard/core';
import { pino } from 'pino';
import { createSnapshotHealthBoard } from '../health/health-board.js';
import { createRuntimePluginRegistry } from '../plugins/registry.js';
import { redisQuotaStoresFor } from '../quota/redis-quota-policies.js';
import { createRedisQuotaStores } from '../quota/redis-quota-stores.js';
import { type AccessLog, createAccessLog } from '../server/access-log.js';
import { createProxyServer, type ProxyServer } from '../server/proxy-server.js';
import { createIpcConfigSource } from './ipc-config-source.js';
import { isPrimaryMessage, type PrimaryMessage, type WorkerMessage } from './ipc-messages.js';
import { createIpcQuotaCounters } from './ipc-quota-counters.js';

/**
 * The script every data-plane worker runs (`cluster.setupPrimary({ exec })`): it waits for `init`,
 * then serves the proxy on every `node_listen` address with config relayed by the primary.
 * Does nothing when loaded outside a cluster worker.
 */
function runWorker(): void {
  const source = createIpcConfigSource();
  let proxy: ProxyServer | undefined;
  let accessLog: AccessLog | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (proxy?.close() ?? Promise.resolve())
      .catch(() => {})
      .finally(() => {
        quotaCounters.close();
        void redisQuota.close();
        accessLog?.close();
      });
    return stopping;
  };
  const send = (message: WorkerMessage): boolean => {
    if (!process.connected) return false;
    process.send?.(message);
    return true;
  };
  // The node's health lives in the primary (one prober per node); this worker reads its snapshots.
  const health = createSnapshotHealthBoard((key, observation) => send({ sb: 'passive-health', key, observation }));
  // So are the ai-rate-limiting `local` counters.
  const quotaCounters = createIpcQuotaCounters(send);
  const redisQuota = createRedisQuotaStores();

  async function start(init: Extract<PrimaryMessage, { sb: 'init' }>): Promise<void> {
    const logger = pino({ level: init.logLevel, base: { pid: process.pid, worker: init.slot } }, pino.destination(2));
    accessLog = createAccessLog(init.config.nginx_config.http.access_log);
    proxy = createProxyServer({
      source,
      prefix: init.prefix,
      logger,
      accessLog,
      dataEncryption: init.config.apisix.data_encryption,
      plugins: createRuntimePluginRegistry({
        random: Math.random,
        now: () => performance.now(),
        health: health.board,
        quotaStores: { local: quotaCounters, remote: redisQuotaStoresFor(redisQuota) },
        providerEnv: init.providerEnv,
      }),
      onApplied: ({ revision, fullyLoaded }) => send({ sb: 'applied', revision, fullyLoaded }),
    });
    try {
      const addresses = await proxy.listen(resolveNodeListen(init.config));
      send({ sb: 'listening', addresses });
    } catch (error) {
      send({ sb: 'listen-failed', message: error instanceof Error ? error.message : String(error) });
      process.exitCode = 1;
      process.disconnect();
    }
  }

  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    switch (message.sb) {
      case 'init':
        void start(message);
        return;
      case 'snapshot':
      case 'changes':
        source.deliver(message);
        return;
      case 'health':
        health.apply(message.snapshot);
        return;
      case 'quota-reserved':
      case 'quota-adjusted':
        quotaCounters.deliver(message);
        return;
      case 'shutdown':
        void stop().finally(() => {
          if (process.connected) process.disconnect();
        });
        return;
    }
  });
  send({ sb: 'booted' });
  // The primary went away: nothing will feed or stop this worker any more.
  process.on('disconnect', () => {
    void stop().finally(() => process.exit());
  });
}

if (cluster.isWorker) runWorker();
