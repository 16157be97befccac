import type { AvailabilityVerdict, SwitchboardError } from '@switchboard/core';

/**
 * The contract between the AI proxies (ai-proxy-multi, ai-proxy) and ai-rate-limiting
 * (ai-proxy-multi.md §9.1, admin-api.md §8.5). ai-rate-limiting attaches a gate to the request in its
 * rewrite phase; the proxy, which calls the LLM inside its own access phase, asks the gate for every
 * instance it is about to use and tells it how each attempt ended.
 */

/** Token counts of a request or answer, as `limit_strategy` and `cost_expr` read them. */
export type QuotaUsage = Readonly<Record<string, number>>;

/** What a request is expected to cost before it is sent (reserve-then-settle, Beyond APISIX). */
export interface TokenEstimate {
  readonly prompt_tokens: number;
  /** The client's `max_tokens` (or equivalent); undefined → the plugin's `default_completion_tokens`. */
  readonly completion_tokens: number | undefined;
}

/** How a gate ends a request: the reject response of `rejected_code`/`rejected_msg`, or a gateway error. */
export type QuotaStop =
  | {
      readonly kind: 'rejected';
      readonly instance: string;
      readonly status: number;
      /** `rejected_msg`: answered as `{"error_msg": message}` like APISIX; else an OpenAI-shaped error. */
      readonly message: string | undefined;
    }
  | { readonly kind: 'error'; readonly error: SwitchboardError };

/** An admitted attempt's reservations; settled or released exactly once. */
export interface QuotaTicket {
  readonly instance: string;
}

export interface AiQuotaGate {
  /**
   * Checks (when `check`) and reserves this request's estimate on `instance`, setting the
   * `X-AI-RateLimit-*` headers. `skip` only when the instance's own quota is used up and `skippable`
   * was asked for (the `rate_limiting` fallback strategy); otherwise exhaustion is a `stop`.
   */
  admit(
    instance: string,
    options: { readonly check: boolean; readonly skippable: boolean; readonly estimate: TokenEstimate },
  ): Promise<AvailabilityVerdict<QuotaStop> & { readonly ticket?: QuotaTicket }>;
  /**
   * The attempt answered: charge its usage (the estimate when it had none) and give back the rest.
   * Resolves once the counters took it (never rejects: a failure is logged).
   */
  settle(ticket: QuotaTicket, usage: QuotaUsage | undefined): Promise<void>;
  /** The attempt failed before answering: give the reservation back. */
  release(ticket: QuotaTicket): void;
}
