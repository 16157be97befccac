import {
  currentWindow,
  type QuotaAdjustRequest,
  type QuotaCounterStore,
  type QuotaReservation,
  type QuotaReserveRequest,
  type QuotaWindow,
  windowIdOf,
} from './quota-counter-store.js';

/** Ended windows are dropped every this many operations, so memory follows the live counters only. */
const SWEEP_EVERY_OPERATIONS = 1024;

/**
 * The counters of the `local` policy (admin-api.md §8.2): fixed windows in this process's memory. The
 * data-plane primary holds one for its node and answers its workers over IPC, so every worker of a node
 * shares the same quota. Synchronous steps, so each reserve is atomic by construction.
 *
 * @example
 *   const counters = new MemoryQuotaCounters(Date.now);
 *   counters.reserveNow({ key: 'r1#gpt', windowMs: 60_000, limit: 30, amount: 10, check: true }).admitted // true
 */
export class MemoryQuotaCounters implements QuotaCounterStore {
  private readonly windows = new Map<string, QuotaWindow>();
  private operations = 0;

  constructor(private readonly now: () => number) {}

  reserve(request: QuotaReserveRequest): Promise<QuotaReservation> {
    return Promise.resolve(this.reserveNow(request));
  }

  adjust(request: QuotaAdjustRequest): Promise<void> {
    this.adjustNow(request);
    return Promise.resolve();
  }

  reserveNow(request: QuotaReserveRequest): QuotaReservation {
    const now = this.tick();
    const window = currentWindow(this.windows.get(request.key), now, request.windowMs);
    const usedBefore = window.used;
    const admitted = !request.check || usedBefore < request.limit;
    if (admitted && request.amount !== 0) window.used += request.amount;
    this.windows.set(request.key, window);
    return { admitted, usedBefore, resetMs: window.startedAt + window.windowMs - now, windowId: windowIdOf(window) };
  }

  adjustNow(request: QuotaAdjustRequest): void {
    if (request.delta === 0) return;
    const now = this.tick();
    const stored = this.windows.get(request.key);
    const live = stored !== undefined && now < stored.startedAt + stored.windowMs ? stored : undefined;
    if (live !== undefined && windowIdOf(live) === request.windowId) {
      live.used = Math.max(0, live.used + request.delta);
      return;
    }
    if (request.delta < 0) return;
    const window = currentWindow(live, now, request.windowMs);
    window.used += request.delta;
    this.windows.set(request.key, window);
  }

  /** Live counters, for tests and the status of a node. */
  get size(): number {
    return this.windows.size;
  }

  private tick(): number {
    const now = this.now();
    this.operations += 1;
    if (this.operations % SWEEP_EVERY_OPERATIONS === 0) this.sweep(now);
    return now;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (now >= window.startedAt + window.windowMs) this.windows.delete(key);
    }
  }
}
