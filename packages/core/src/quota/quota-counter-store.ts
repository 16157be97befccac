/**
 * Token counters of ai-rate-limiting (admin-api.md §8.2, ai-proxy-multi.md §9.3): one fixed window per
 * counter key, started when the key is first touched and lasting `windowMs`. The `local` policy keeps
 * them in the data-plane primary (one per node), the `redis*` policies in Redis (shared by replicas);
 * both implement this contract with the same semantics, checked by one conformance table.
 *
 * Reserve-then-settle (Beyond APISIX): before forwarding, a request reserves an estimate with an atomic
 * check-and-add; when the answer ends it settles to the real usage (`adjust` by the difference) or
 * releases the estimate on failure. So concurrent requests cannot overrun a quota by more than one
 * request's estimate.
 */

export interface QuotaReserveRequest {
  readonly key: string;
  /** The window length; the window starts when the key is first touched. */
  readonly windowMs: number;
  /** The limit the check compares against (ignored when `check` is false). */
  readonly limit: number;
  /** Added to the counter when admitted. 0 makes a dry run (APISIX's `check_instance_status`). */
  readonly amount: number;
  /**
   * true: admit only while `used < limit` (APISIX: reject when `remaining - 1 < 0`), atomically with the
   * add. false: always add (a retry on an instance that was not checked, APISIX charges it unchecked).
   */
  readonly check: boolean;
}

export interface QuotaReservation {
  readonly admitted: boolean;
  /** Tokens counted in the window before this reservation (reservations of requests in flight included). */
  readonly usedBefore: number;
  /** Milliseconds until the window ends. */
  readonly resetMs: number;
  /** Identifies the window the reservation went to, so a late settle never credits the next window. */
  readonly windowId: string;
}

export interface QuotaAdjustRequest {
  readonly key: string;
  readonly windowMs: number;
  /** Added to the counter; negative to give back part of a reservation. */
  readonly delta: number;
  /**
   * The window of the reservation being settled. When that window has ended, a negative delta is dropped
   * (the window it would credit is gone) and a positive one is charged to the current window.
   */
  readonly windowId: string;
}

export interface QuotaCounterStore {
  reserve(request: QuotaReserveRequest): Promise<QuotaReservation>;
  adjust(request: QuotaAdjustRequest): Promise<void>;
}

/**
 * The window semantics shared by every store, as a pure step over one counter (the in-memory store runs
 * it directly; the Redis store runs the same steps in a Lua script).
 *
 * QUIRK kept from APISIX (admin-api.md §8.4): while nothing has been consumed the window is re-armed,
 * so an unused counter always reports a full `time_window` until its first charge.
 */
export interface QuotaWindow {
  used: number;
  /** Wall-clock ms the window started; its id. */
  startedAt: number;
  windowMs: number;
}

/** The window `key` is in at `now`: the stored one while it lasts and has been used, else a fresh one. */
export function currentWindow(stored: QuotaWindow | undefined, now: number, windowMs: number): QuotaWindow {
  if (stored !== undefined && stored.used !== 0 && now < stored.startedAt + stored.windowMs) return stored;
  return { used: 0, startedAt: now, windowMs };
}

export function windowIdOf(window: QuotaWindow): string {
  return String(window.startedAt);
}
