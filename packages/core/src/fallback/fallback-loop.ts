import { decideRetry, type FallbackPolicy } from './fallback-policy.js';

/**
 * An attempt that failed before anything reached the client, so another instance may still answer.
 * `status` is what the retry decision reads (upstream status, or 500/504 for transport errors, §3.2);
 * `detail` is the upstream error body or the error message, for the §3.3 log line.
 */
export interface FailedAttempt<Failure> {
  readonly status: number;
  readonly detail: string;
  readonly failure: Failure;
}

/** What one attempt came to: final (answered, relayed, broken after the first byte, client gone) or failed. */
export type AttemptVerdict<Final, Failure> = { readonly final: Final } | { readonly failed: FailedAttempt<Failure> };

/** The log lines of §3.3, §3.5 and §8.3, as events; `message` is APISIX's wording. */
export type FallbackEvent =
  | {
      readonly type: 'attempt-failed';
      readonly instance: string;
      readonly attempt: number;
      readonly status: number;
      readonly message: string;
    }
  | {
      readonly type: 'falling-back';
      readonly from: string;
      readonly to: string;
      readonly status: number;
      readonly message: string;
    }
  | { readonly type: 'max-retries'; readonly instance: string; readonly message: string }
  | { readonly type: 'slow-failure'; readonly instance: string; readonly message: string }
  | { readonly type: 'pick-failed'; readonly instance: string; readonly message: string }
  /** Beyond APISIX: `request_deadline_ms` passed, so no further attempt starts. */
  | { readonly type: 'deadline'; readonly instance: string; readonly message: string };

/** How the request ends (§3.4). `attempts` counts every attempt made, the final one included. */
export type FallbackResult<Final, Failure> =
  /** An attempt answered (or could no longer be replaced): the response is already written. */
  | { readonly kind: 'final'; readonly final: Final; readonly instance: string; readonly attempts: number }
  /** Nothing to pick for the first attempt: 503 `all servers tried` (§2.9). */
  | { readonly kind: 'nothing-to-pick'; readonly attempts: 0 }
  /** No retry for this failure (not retriable, capped, too slow, single instance): answer with it as is. */
  | {
      readonly kind: 'gave-up';
      readonly failed: FailedAttempt<Failure>;
      readonly instance: string;
      readonly attempts: number;
    }
  /** Retriable, but every instance was tried: 502 with the last failure's body (§3.3). */
  | {
      readonly kind: 'exhausted';
      readonly failed: FailedAttempt<Failure>;
      readonly instance: string;
      readonly attempts: number;
    }
  /** Retriable, but the request's deadline has passed (Beyond APISIX): a 504 of the gateway's own. */
  | {
      readonly kind: 'deadline';
      readonly failed: FailedAttempt<Failure>;
      readonly instance: string;
      readonly attempts: number;
    };

export interface FallbackLoopInput<Final, Failure> {
  readonly policy: FallbackPolicy;
  /** The next instance not in `tried` (skipped ones are added to it), or undefined when none is left. */
  readonly pick: (tried: Set<string>) => Promise<string | undefined> | string | undefined;
  /** One attempt against `instance`; `attempt` is 1-based. Must never write to the client on failure. */
  readonly attempt: (instance: string, attempt: number) => Promise<AttemptVerdict<Final, Failure>>;
  /** Monotonic milliseconds, to time each attempt for `retry_on_failure_within_ms`. */
  readonly now: () => number;
  readonly onEvent: (event: FallbackEvent) => void;
  /** Beyond APISIX (`request_deadline_ms`): true once no new attempt may start; absent = no deadline. */
  readonly deadlinePassed?: () => boolean;
}

/**
 * The fallback engine of ai-proxy-multi (ai-proxy-multi.md §3): pick, attempt, and on a failure that
 * nothing has reached the client for, decide (§3.3) and try the next instance from the same per-request
 * `tried` set — never a recursive call, never an instance twice, never after the first byte went out
 * (a started response is a `final` verdict by construction).
 *
 * @example
 *   const result = await runFallbackLoop({ policy, pick: (tried) => balancer.pick({ tried }, gates), attempt, now, onEvent });
 *   if (result.kind === 'exhausted') answer502(result.failed);
 */
export async function runFallbackLoop<Final, Failure>(
  input: FallbackLoopInput<Final, Failure>,
): Promise<FallbackResult<Final, Failure>> {
  const tried = new Set<string>();
  let instance = await input.pick(tried);
  if (instance === undefined) return { kind: 'nothing-to-pick', attempts: 0 };
  for (let attempt = 1; ; attempt += 1) {
    const startedAt = input.now();
    const verdict = await input.attempt(instance, attempt);
    if ('final' in verdict) return { kind: 'final', final: verdict.final, instance, attempts: attempt };

    const { failed } = verdict;
    tried.add(instance);
    input.onEvent({
      type: 'attempt-failed',
      instance,
      attempt,
      status: failed.status,
      message: `ai instance ${instance} failed on attempt ${attempt} with status ${failed.status}`,
    });
    const decision = decideRetry(input.policy, {
      status: failed.status,
      elapsedMs: input.now() - startedAt,
      retriesSoFar: attempt - 1,
    });
    if (!decision.retry) {
      if (decision.reason === 'max-retries') {
        input.onEvent({
          type: 'max-retries',
          instance,
          message: `reached max_retries ${decision.maxRetries}, not retrying`,
        });
      } else if (decision.reason === 'slow-failure') {
        const message = `ai instance failed after ${Math.floor(decision.elapsedMs)}ms, exceeding retry_on_failure_within_ms ${decision.limitMs}, not retrying`;
        input.onEvent({ type: 'slow-failure', instance, message });
      }
      return { kind: 'gave-up', failed, instance, attempts: attempt };
    }

    if (input.deadlinePassed?.() === true) {
      input.onEvent({ type: 'deadline', instance, message: 'request_deadline_ms exceeded, not falling back' });
      return { kind: 'deadline', failed, instance, attempts: attempt };
    }
    const next = await input.pick(tried);
    if (next === undefined) {
      input.onEvent({ type: 'pick-failed', instance, message: 'failed to pick new AI instance: all servers tried' });
      return { kind: 'exhausted', failed, instance, attempts: attempt };
    }
    input.onEvent({
      type: 'falling-back',
      from: instance,
      to: next,
      status: failed.status,
      message: `ai instance ${instance} returned status ${failed.status}, falling back to ${next}. upstream error body: ${failed.detail}`,
    });
    instance = next;
  }
}
