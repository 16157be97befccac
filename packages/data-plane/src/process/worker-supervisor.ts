import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type {
  ChangeEvent,
  ConfigFile,
  ConfigListener,
  PassiveObservation,
  QuotaCounterStore,
  StoredItem,
} from '@switchboard/core';
import type { Logger } from 'pino';
import type { HealthSnapshot } from '../health/health-board.js';
import type { ProviderEnv } from '../plugins/ai-proxy-multi/auth/provider-auth-runtime.js';
import type { NodeReadiness } from '../server/status-server.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage } from './ipc-messages.js';

export interface WorkerSupervisorOptions {
  readonly count: number;
  /** The compiled worker script (worker-entry.js). */
  readonly exec: string;
  readonly config: ConfigFile;
  readonly prefix: string;
  readonly logger: Logger;
  /** How long `close` waits for a worker to finish its requests before killing it. */
  readonly shutdownTimeoutMs?: number;
  /** A worker's passive health observation, for the node's health service. */
  readonly onPassiveHealth?: (key: string, observation: PassiveObservation) => void;
  /** The node's ai-rate-limiting `local` counters, which workers reach over IPC. */
  readonly quotaCounters?: QuotaCounterStore;
  /** Environment values LLM providers read (`GCP_SERVICE_ACCOUNT`), passed to every worker. */
  readonly providerEnv?: ProviderEnv;
}

export interface WorkerSupervisor {
  /** Give this to `ConfigSource.start`: the primary keeps the full state and relays every batch. */
  readonly listener: ConfigListener;
  /** Resolves with each worker's listening addresses once all are listening; rejects if one cannot listen. */
  readonly listening: Promise<readonly AddressInfo[]>;
  /** Resolves once every worker applied a first full load. */
  readonly ready: Promise<void>;
  readiness(): NodeReadiness;
  /** Sends the node's health to every worker, and to each worker started later. */
  publishHealth(snapshot: HealthSnapshot): void;
  close(): Promise<void>;
}

/** A worker that exits sooner than this after starting is restarted after this delay. */
const RESTART_BACKOFF_MS = 1000;

interface Slot {
  worker: Worker | undefined;
  /** init (and the snapshot, if any) were sent: relayed batches may follow. */
  initialized: boolean;
  fullyLoaded: boolean;
  revision: number;
}

/**
 * The data-plane primary (architecture.md): forks `count` workers with `node:cluster`, keeps the
 * latest full config state, relays snapshots and change batches to every worker in order, gives a
 * new or restarted worker the current snapshot, restarts a worker that dies, and tracks which
 * revision each worker applied for the status server.
 *
 * @example
 *   const supervisor = startWorkerSupervisor({ count: 2, exec, config, prefix: '/apisix', logger });
 *   source.start('/apisix', supervisor.listener);
 */
export function startWorkerSupervisor(options: WorkerSupervisorOptions): WorkerSupervisor {
  const { logger } = options;
  const state = new Map<string, StoredItem>();
  let stateRevision = 0;
  let hasSnapshot = false;
  let health: HealthSnapshot | undefined;
  let closing = false;
  const slots: Slot[] = Array.from({ length: options.count }, () => ({
    worker: undefined,
    initialized: false,
    fullyLoaded: false,
    revision: 0,
  }));
  const listened = new Map<number, readonly AddressInfo[]>();
  const restartTimers = new Set<NodeJS.Timeout>();

  let resolveListening: (addresses: readonly AddressInfo[]) => void = () => {};
  let rejectListening: (error: Error) => void = () => {};
  const listening = new Promise<readonly AddressInfo[]>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const send = (slot: Slot, message: PrimaryMessage): void => {
    if (slot.worker?.isConnected() === true) slot.worker.send(message);
  };
  const broadcast = (message: PrimaryMessage): void => {
    for (const slot of slots) if (slot.initialized) send(slot, message);
  };
  const snapshotMessage = (): PrimaryMessage => ({
    sb: 'snapshot',
    items: [...state.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    revision: stateRevision,
  });

  function onWorkerMessage(index: number, slot: Slot, message: WorkerMessage): void {
    switch (message.sb) {
      case 'booted':
        send(slot, {
          sb: 'init',
          slot: index,
          config: options.config,
          prefix: options.prefix,
          logLevel: options.logger.level,
          providerEnv: options.providerEnv ?? {},
        });
        if (health !== undefined) send(slot, { sb: 'health', snapshot: health });
        if (hasSnapshot) send(slot, snapshotMessage());
        slot.initialized = true;
        return;
      case 'listening':
        listened.set(index, message.addresses);
        if (listened.size === slots.length) resolveListening([...listened.values()].flat());
        return;
      case 'listen-failed':
        rejectListening(new Error(`data-plane worker ${index} could not listen: ${message.message}`));
        return;
      case 'applied':
        slot.revision = message.revision;
        slot.fullyLoaded ||= message.fullyLoaded;
        if (slots.every((each) => each.fullyLoaded)) resolveReady();
        return;
      case 'passive-health':
        options.onPassiveHealth?.(message.key, message.observation);
        return;
      case 'quota-reserve': {
        const counters = options.quotaCounters;
        if (counters === undefined) return;
        const { id } = message;
        counters.reserve(message.request).then(
          (reservation) => send(slot, { sb: 'quota-reserved', id, reservation }),
          (error: unknown) => logger.error({ err: error }, 'quota reservation failed in the primary'),
        );
        return;
      }
      case 'quota-adjust': {
        const counters = options.quotaCounters;
        if (counters === undefined) return;
        const { id } = message;
        counters.adjust(message.request).then(
          () => send(slot, { sb: 'quota-adjusted', id }),
          (error: unknown) => logger.error({ err: error }, 'quota adjustment failed in the primary'),
        );
        return;
      }
    }
  }

  function fork(index: number): void {
    const slot = slots[index];
    if (slot === undefined) return;
    const worker = cluster.fork();
    const startedAt = Date.now();
    Object.assign(slot, { worker, initialized: false, fullyLoaded: false, revision: 0 });
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message)) onWorkerMessage(index, slot, message);
    });
    worker.once('exit', (code, signal) => {
      if (slot.worker !== worker) return;
      Object.assign(slot, { worker: undefined, initialized: false, fullyLoaded: false });
      if (closing) return;
      logger.error({ worker: index, code, signal }, 'data-plane worker exited; starting a replacement');
      if (!listened.has(index)) {
        rejectListening(
          new Error(`data-plane worker ${index} exited before listening (code ${code}, signal ${signal})`),
        );
        return;
      }
      // A worker that dies right after starting would otherwise be restarted in a tight loop.
      const delayMs = Date.now() - startedAt < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0;
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!closing) fork(index);
      }, delayMs);
      restartTimers.add(timer);
    });
  }

  cluster.setupPrimary({
    exec: options.exec,
    // The test runner's flags would turn a worker into a test run.
    execArgv: process.execArgv.filter((arg) => !arg.startsWith('--test')),
  });
  for (let index = 0; index < slots.length; index++) fork(index);

  return {
    listener: {
      onSnapshot(items, revision) {
        state.clear();
        for (const item of items) state.set(item.key, item);
        stateRevision = revision;
        hasSnapshot = true;
        broadcast({ sb: 'snapshot', items, revision });
      },
      onChanges(events: readonly ChangeEvent[], revision) {
        for (const event of events) {
          if (event.type === 'put') state.set(event.item.key, event.item);
          else state.delete(event.key);
        }
        stateRevision = Math.max(stateRevision, revision);
        broadcast({ sb: 'changes', events, revision });
      },
      onError(error) {
        logger.warn({ err: error }, 'config source error; workers keep serving the last applied config');
      },
    },
    listening,
    ready,
    readiness() {
      const notReady = slots.findIndex((slot) => !slot.fullyLoaded);
      return {
        revision: notReady === -1 ? Math.min(...slots.map((slot) => slot.revision)) : 0,
        notReadyWorker: notReady === -1 ? undefined : notReady,
      };
    },
    publishHealth(snapshot) {
      health = snapshot;
      broadcast({ sb: 'health', snapshot });
    },
    async close() {
      closing = true;
      for (const timer of restartTimers) clearTimeout(timer);
      await Promise.all(slots.map((slot) => stopWorker(slot, options.shutdownTimeoutMs ?? 10_000)));
    },
  };
}

function stopWorker(slot: Slot, timeoutMs: number): Promise<void> {
  const worker = slot.worker;
  if (worker === undefined || worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), timeoutMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (worker.isConnected()) worker.send({ sb: 'shutdown' } satisfies PrimaryMessage);
    else worker.process.kill('SIGTERM');
  });
}
