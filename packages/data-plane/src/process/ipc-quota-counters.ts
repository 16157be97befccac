import type { QuotaAdjustRequest, QuotaCounterStore, QuotaReservation, QuotaReserveRequest } from '@switchboard/core';
import type { PrimaryMessage, WorkerMessage } from './ipc-messages.js';

/** A reservation the primary has not answered within this long fails, so a request never hangs on it. */
const REPLY_TIMEOUT_MS = 2000;

/** The worker's view of the node's `local` counters (admin-api.md §8.2), which live in the primary. */
export interface IpcQuotaCounters extends QuotaCounterStore {
  /** Hands the primary's `quota-reserved` replies in. */
  deliver(message: Extract<PrimaryMessage, { sb: 'quota-reserved' }>): void;
  /** Fails every pending reservation (the primary went away). */
  close(): void;
}

/**
 * ai-rate-limiting's `local` policy in a data-plane worker: every reserve and adjust goes to the node's
 * primary over IPC, so all workers of a node share one set of counters (DECISIONS: local rate-limit state
 * is per node, not per worker). Adjustments need no answer; IPC keeps their order per worker.
 *
 * @example
 *   const counters = createIpcQuotaCounters((message) => process.send?.(message));
 *   process.on('message', (m) => m.sb === 'quota-reserved' && counters.deliver(m));
 */
export function createIpcQuotaCounters(send: (message: WorkerMessage) => boolean): IpcQuotaCounters {
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (reservation: QuotaReservation) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();
  const fail = (id: number, error: Error) => {
    const waiting = pending.get(id);
    if (waiting === undefined) return;
    pending.delete(id);
    clearTimeout(waiting.timer);
    waiting.reject(error);
  };
  return {
    reserve(request: QuotaReserveRequest): Promise<QuotaReservation> {
      const id = nextId;
      nextId += 1;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            fail(id, new Error(`the node primary did not answer a quota reservation within ${REPLY_TIMEOUT_MS} ms`)),
          REPLY_TIMEOUT_MS,
        );
        pending.set(id, { resolve, reject, timer });
        if (!send({ sb: 'quota-reserve', id, request })) fail(id, new Error('the node primary is not reachable'));
      });
    },
    adjust(request: QuotaAdjustRequest): Promise<void> {
      return send({ sb: 'quota-adjust', request })
        ? Promise.resolve()
        : Promise.reject(new Error('the node primary is not reachable'));
    },
    deliver(message) {
      const waiting = pending.get(message.id);
      if (waiting === undefined) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      waiting.resolve(message.reservation);
    },
    close() {
      for (const id of [...pending.keys()]) fail(id, new Error('the data-plane worker is stopping'));
    },
  };
}
