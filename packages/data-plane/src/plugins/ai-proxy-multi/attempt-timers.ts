import { SwitchboardError } from '@switchboard/core';

/** The Beyond-APISIX timeouts of one attempt (docs/balancing.md "Timeouts"), by their conf names. */
export type AttemptTimeoutLimit = 'first_token_timeout_ms' | 'stall_timeout_ms' | 'request_deadline_ms';

/**
 * One of our timeouts ended the attempt. A 504 `SB_ERR_UPSTREAM_TIMEOUT` like `timeout` itself, so the
 * retry decision (§3.2, §3.3) and passive health treat it as a timeout; `limit` says which one.
 */
export class AttemptTimeoutError extends SwitchboardError {
  readonly limit: AttemptTimeoutLimit;

  constructor(limit: AttemptTimeoutLimit) {
    super('SB_ERR_UPSTREAM_TIMEOUT', `${limit} exceeded`);
    this.limit = limit;
  }
}

/** What the relays report while reading an upstream body (relay.ts, sse/stream-relay.ts). */
export interface BodyWatch {
  /** True until the first token arrived, while `first_token_timeout_ms` runs: keep-alives do not count. */
  readonly awaitsFirstToken: boolean;
  /** An upstream body chunk with content arrived (the first one is the first token). Hot path. */
  chunk(): void;
  /** The relay waits for a slow client (`drain`): upstream silence then is not a stall. */
  clientBlocked(blocked: boolean): void;
  /** The timeout that ended the attempt, once one did. */
  readonly expired: AttemptTimeoutError | undefined;
}

export interface AttemptTimerSettings {
  /** `first_token_timeout_ms`: from the response headers to the first token. */
  readonly firstTokenTimeoutMs: number | undefined;
  /** `stall_timeout_ms`: the longest gap between body chunks once the first token arrived. */
  readonly stallTimeoutMs: number | undefined;
  /** `request_deadline_ms` as a point on the `now` clock, the same for every attempt of the request. */
  readonly deadlineAt: number | undefined;
}

/** The timer functions the timers run on; node's by default, a manual clock's in tests. */
export interface TimerFunctions {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_TIMERS: TimerFunctions = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface AttemptTimersOptions {
  /** Monotonic milliseconds (the attempt's clock). */
  readonly now: () => number;
  /** Runs once, with the error the attempt then fails or ends with; the caller aborts the upstream in it. */
  readonly onExpire: (error: AttemptTimeoutError) => void;
  readonly timers?: TimerFunctions;
}

type Phase = 'awaiting-headers' | 'awaiting-first-token' | 'reading-body' | 'stopped';

/**
 * The three optional timeouts of one attempt over a single timer. The timer is re-armed only when the
 * phase changes or when it fires early (a chunk arrived since, or the client held the stream), never per
 * chunk: a chunk only records its time, so the relay's per-chunk path stays one clock read at most.
 *
 * @example
 *   const timers = new AttemptTimers(
 *     { firstTokenTimeoutMs: 5000, stallTimeoutMs: undefined, deadlineAt: undefined },
 *     { now: () => performance.now(), onExpire: () => upstream.abort() },
 *   );
 *   timers.responseStarted(); // headers arrived: five seconds for the first token
 *   timers.chunk();           // it came; no more timing
 *   timers.stop();
 */
export class AttemptTimers implements BodyWatch {
  expired: AttemptTimeoutError | undefined;
  private phase: Phase = 'awaiting-headers';
  private headersAt = 0;
  private lastChunkAt = 0;
  private blocked = false;
  private timer: unknown;
  /** When the armed timer fires, on the `now` clock (undefined: none armed). */
  private armedFor: number | undefined;
  private readonly now: () => number;
  private readonly onExpire: (error: AttemptTimeoutError) => void;
  private readonly timers: TimerFunctions;

  constructor(
    private readonly settings: AttemptTimerSettings,
    options: AttemptTimersOptions,
  ) {
    this.now = options.now;
    this.onExpire = options.onExpire;
    this.timers = options.timers ?? NODE_TIMERS;
    this.arm();
  }

  get awaitsFirstToken(): boolean {
    return this.phase === 'awaiting-first-token' && this.settings.firstTokenTimeoutMs !== undefined;
  }

  /** Response headers arrived on the relay path (not the error path): the first-token clock starts. */
  responseStarted(): void {
    if (this.phase !== 'awaiting-headers') return;
    this.phase = 'awaiting-first-token';
    this.headersAt = this.now();
    this.arm();
  }

  chunk(): void {
    if (this.phase === 'reading-body') {
      if (this.settings.stallTimeoutMs !== undefined) this.lastChunkAt = this.now();
      return;
    }
    if (this.phase !== 'awaiting-first-token') return;
    this.phase = 'reading-body';
    this.lastChunkAt = this.now();
    this.arm();
  }

  clientBlocked(blocked: boolean): void {
    this.blocked = blocked;
    // The gap restarts when the client takes more; the armed timer finds that out when it fires.
    if (!blocked && this.settings.stallTimeoutMs !== undefined) this.lastChunkAt = this.now();
  }

  stop(): void {
    this.phase = 'stopped';
    this.disarm();
  }

  /** When the current phase's limit (or the deadline, if sooner) passes. */
  private dueAt(): number | undefined {
    const { firstTokenTimeoutMs, stallTimeoutMs, deadlineAt } = this.settings;
    let phaseDue: number | undefined;
    if (this.phase === 'awaiting-first-token' && firstTokenTimeoutMs !== undefined)
      phaseDue = this.headersAt + firstTokenTimeoutMs;
    else if (this.phase === 'reading-body' && stallTimeoutMs !== undefined)
      phaseDue = (this.blocked ? this.now() : this.lastChunkAt) + stallTimeoutMs;
    if (phaseDue === undefined) return deadlineAt;
    return deadlineAt === undefined ? phaseDue : Math.min(phaseDue, deadlineAt);
  }

  private arm(): void {
    const due = this.phase === 'stopped' ? undefined : this.dueAt();
    if (due === this.armedFor) return;
    this.disarm();
    if (due === undefined) return;
    this.armedFor = due;
    this.timer = this.timers.setTimeout(this.fire, Math.max(Math.ceil(due - this.now()), 1));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = undefined;
    if (this.phase === 'stopped') return;
    const limit = this.limitPassed(this.now());
    if (limit === undefined) {
      this.arm();
      return;
    }
    this.phase = 'stopped';
    this.expired = new AttemptTimeoutError(limit);
    this.onExpire(this.expired);
  };

  private limitPassed(now: number): AttemptTimeoutLimit | undefined {
    const { firstTokenTimeoutMs, stallTimeoutMs, deadlineAt } = this.settings;
    if (deadlineAt !== undefined && now >= deadlineAt) return 'request_deadline_ms';
    if (
      this.phase === 'awaiting-first-token' &&
      firstTokenTimeoutMs !== undefined &&
      now - this.headersAt >= firstTokenTimeoutMs
    )
      return 'first_token_timeout_ms';
    if (
      this.phase === 'reading-body' &&
      stallTimeoutMs !== undefined &&
      !this.blocked &&
      now - this.lastChunkAt >= stallTimeoutMs
    )
      return 'stall_timeout_ms';
    return undefined;
  }
}

/**
 * The deadline of one request across its attempts (`request_deadline_ms`): fixed when the first attempt
 * starts; no attempt starts once it has passed.
 *
 * @example
 *   const deadline = requestDeadline(30_000, now);
 *   if (deadline.passed()) answer504();
 */
export function requestDeadline(
  deadlineMs: number | undefined,
  now: () => number,
): { readonly at: number | undefined; passed(): boolean } {
  const at = deadlineMs === undefined ? undefined : now() + deadlineMs;
  return { at, passed: () => at !== undefined && now() >= at };
}

/**
 * Whether an attempt ended because the request's deadline passed. Such an attempt says nothing about
 * its instance (earlier attempts may have used up the time), so passive health does not count it.
 */
export function endedByDeadline(outcome: { readonly kind: string; readonly error?: SwitchboardError }): boolean {
  return outcome.error instanceof AttemptTimeoutError && outcome.error.limit === 'request_deadline_ms';
}
