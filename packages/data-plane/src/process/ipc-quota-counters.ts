import type { QuotaAdjustRequest, QuotaCounterStore, QuotaReservation, QuotaReserveRequest } from '@switchboard/core';
import type { PrimaryMessage, WorkerMessage } from './ipc-messages.js';

/** An operation the primary has not answered within this long fails, so a request never hangs on it. */
const REPLY_TIMEOUT_MS = 2000;

type QuotaReply = Extract<PrimaryMessage, { sb: 'quota-reserved' | 'quota-adjusted' }>;

/** The worker's view of the node's `local` counters (admin-api.md §8.2), which live in the primary. */
export interface IpcQuotaCounters extends QuotaCounterStore {
  /** Hands the primary's `quota-reserved` / `quota-adjusted` replies in. */
  deliver(message: QuotaReply): void;
  /** Fails every pending operation (the worker is stopping). */
  close(): void;
}

interface Pending {
  readonly resolve: (reply: QuotaReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * ai-rate-limiting's `local` policy in a data-plane worker: every reserve and adjust goes to the node's
 * primary over IPC, so all workers of a node share one set of counters (DECISIONS: local rate-limit state
 * is per node, not per worker). Both are answered, so a settlement is in the counters before the
 * client's response ends and its next request, on whichever worker, sees it.
 *
 * @example
 *   const counters = createIpcQuotaCounters((message) => process.send?.(message) ?? false);
 *   process.on('message', (m) => m.sb === 'quota-reserved' && counters.deliver(m));
 */
export function createIpcQuotaCounters(send: (message: WorkerMessage) => boolean): IpcQuotaCounters {
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const fail = (id: number, error: Error) => {
    const waiting = pending.get(id);
    if (waiting === undefined) return;
    pending.delete(id);
    clearTimeout(waiting.timer);
    waiting.reject(error);
  };
  const ask = (message: (id: number) => WorkerMessage): Promise<QuotaReply> => {
    const id = nextId;
    nextId += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => fail(id, new Error(`the node primary did not answer a quota operation within ${REPLY_TIMEOUT_MS} ms`)),
        REPLY_TIMEOUT_MS,
      );
      pending.set(id, { resolve, reject, timer });
      if (!send(message(id))) fail(id, new Error('the node primary is not reachable'));
    });
  };
  return {
    async reserve(request: QuotaReserveRequest): Promise<QuotaReservation> {
      const reply = await ask((id) => ({ sb: 'quota-reserve', id, request }));
      if (reply.sb !== 'quota-reserved') throw new Error('the node primary answered a reservation out of turn');
      return reply.reservation;
    },
    async adjust(request: QuotaAdjustRequest): Promise<void> {
      await ask((id) => ({ sb: 'quota-adjust', id, request }));
    },
    deliver(message) {
      const waiting = pending.get(message.id);
      if (waiting === undefined) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      waiting.resolve(message);
    },
    close() {
      for (const id of [...pending.keys()]) fail(id, new Error('the data-plane worker is stopping'));
    },
  };
}
