import { type AvailabilityVerdict, type QuotaReservation, SwitchboardError } from '@switchboard/core';
import type { AiQuotaGate, QuotaStop, QuotaTicket, QuotaUsage, TokenEstimate } from '../ai-quota.js';
import type { RequestContext } from '../runtime-plugin.js';
import type { PreparedAiRateLimiting, QuotaLimit, RequestAmount } from './prepare.js';

/** One counter a ticket reserved on. */
interface CounterReservation {
  readonly key: string;
  readonly windowMs: number;
  readonly amount: number;
  readonly windowId: string;
}

interface RateLimitTicket extends QuotaTicket {
  readonly reservations: readonly CounterReservation[];
  /** What was reserved, in the strategy's unit: the charge when the answer carries no usage. */
  readonly estimate: number;
  done: boolean;
}

/** A counter this request must pass: its key, limit and window resolved for this request. */
interface ResolvedCounter {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  /** `X-AI-RateLimit-<field>-<instance>` or `X-AI-<prefix>-RateLimit-<field>`. */
  readonly header: (field: 'Limit' | 'Remaining' | 'Reset') => string;
}

type Verdict = AvailabilityVerdict<QuotaStop> & { readonly ticket?: QuotaTicket };

const USE: Verdict = { kind: 'use' };

/**
 * ai-rate-limiting for one request (admin-api.md §8.2–§8.5, ai-proxy-multi.md §9): the AI proxy asks it
 * before each attempt. Instance mode checks the instance's own counter (its `instances[]` entry, else
 * the plugin-level `limit`); rules mode checks every rule's counter whatever the instance.
 *
 * Beyond APISIX, reserve-then-settle: the check and the reservation of this request's estimate are one
 * atomic step in the counter store, the answer's real usage settles it, and a failed attempt gives it
 * back. A request whose answer carried no usage is charged its estimate, never zero.
 */
export class RequestQuotaGate implements AiQuotaGate {
  constructor(
    private readonly prepared: PreparedAiRateLimiting,
    private readonly ctx: RequestContext,
  ) {}

  async admit(
    instance: string,
    options: { readonly check: boolean; readonly skippable: boolean; readonly estimate: TokenEstimate },
  ): Promise<Verdict> {
    const { prepared } = this;
    const counters = this.countersFor(instance);
    if (counters instanceof SwitchboardError) return { kind: 'stop', stop: { kind: 'error', error: counters } };
    if (counters.length === 0) return USE;
    const estimate = prepared.reserve ? this.estimateCost(options.estimate) : 0;

    const reserved: CounterReservation[] = [];
    for (const counter of counters) {
      let reservation: QuotaReservation;
      try {
        reservation = await prepared.store.reserve({
          key: counter.key,
          windowMs: counter.windowMs,
          limit: counter.limit,
          amount: estimate,
          check: options.check,
        });
      } catch (error) {
        this.giveBack(reserved);
        return this.storeFailed(error);
      }
      this.setHeaders(counter, reservation);
      if (!reservation.admitted) {
        this.giveBack(reserved);
        this.ctx.logFields.ai_rate_limited = instance;
        // Rules never make the proxy fall back (§9.3): only an instance's own quota is skippable.
        if (options.skippable && prepared.rules.length === 0) return { kind: 'skip' };
        const stop: QuotaStop = {
          kind: 'rejected',
          instance,
          status: prepared.rejectedCode,
          message: prepared.rejectedMessage,
        };
        return { kind: 'stop', stop };
      }
      reserved.push({ key: counter.key, windowMs: counter.windowMs, amount: estimate, windowId: reservation.windowId });
    }
    const ticket: RateLimitTicket = { instance, reservations: reserved, estimate, done: false };
    return { kind: 'use', ticket };
  }

  settle(ticket: QuotaTicket, usage: QuotaUsage | undefined): Promise<void> {
    const own = this.own(ticket);
    if (own === undefined) return Promise.resolve();
    let cost: number;
    if (usage !== undefined) cost = this.prepared.costOf(usage);
    else {
      if (!this.prepared.reserve)
        this.prepared.logger.error({ instance: own.instance }, 'failed to get token usage for llm service');
      cost = own.estimate;
    }
    return this.adjustAll(own.reservations, (reservation) => cost - reservation.amount);
  }

  release(ticket: QuotaTicket): void {
    const own = this.own(ticket);
    if (own !== undefined) this.giveBack(own.reservations);
  }

  private own(ticket: QuotaTicket): RateLimitTicket | undefined {
    const own = ticket as RateLimitTicket;
    if (own.done) return undefined;
    own.done = true;
    return own;
  }

  private giveBack(reservations: readonly CounterReservation[]): void {
    void this.adjustAll(reservations, (reservation) => -reservation.amount);
  }

  private adjustAll(
    reservations: readonly CounterReservation[],
    deltaOf: (reservation: CounterReservation) => number,
  ): Promise<void> {
    const adjusted: Promise<void>[] = [];
    for (const reservation of reservations) {
      const delta = deltaOf(reservation);
      if (delta === 0) continue;
      adjusted.push(
        this.prepared.store
          .adjust({ key: reservation.key, windowMs: reservation.windowMs, delta, windowId: reservation.windowId })
          .catch((error: unknown) =>
            this.prepared.logger.warn(
              { err: error, key: reservation.key, delta },
              'ai-rate-limiting could not settle a reservation; the counter keeps the estimate',
            ),
          ),
      );
    }
    return adjusted.length === 0 ? Promise.resolve() : Promise.all(adjusted).then(() => undefined);
  }

  /** The counters `instance` must pass for this request; an error when a variable limit did not resolve. */
  private countersFor(instance: string): ResolvedCounter[] | SwitchboardError {
    const { prepared, ctx } = this;
    if (prepared.rules.length > 0) {
      const counters: ResolvedCounter[] = [];
      for (const [index, rule] of prepared.rules.entries()) {
        const resolved = this.resolve(rule);
        if (resolved instanceof SwitchboardError) return resolved;
        const prefix = rule.headerPrefix;
        counters.push({
          key: `${prepared.counterPrefix}#rule${index + 1}#${rule.key(ctx.vars)}`,
          ...resolved,
          header: (field) => `X-AI-${prefix}-RateLimit-${field}`,
        });
      }
      return counters;
    }
    const limit = prepared.instanceLimits.get(instance) ?? prepared.defaultLimit;
    if (limit === undefined) return [];
    const resolved = this.resolve(limit);
    if (resolved instanceof SwitchboardError) return resolved;
    return [
      {
        key: `${prepared.counterPrefix}#${instance}`,
        ...resolved,
        header: (field) => `X-AI-RateLimit-${field}-${instance}`,
      },
    ];
  }

  private resolve(limit: QuotaLimit): { limit: number; windowMs: number } | SwitchboardError {
    const count = amountOf(limit.limit, this.ctx);
    const window = amountOf(limit.windowSeconds, this.ctx);
    if (count === undefined || window === undefined) {
      return new SwitchboardError(
        'SB_ERR_QUOTA_LIMIT_UNRESOLVED',
        `ai-rate-limiting ${limit.source}: the ${count === undefined ? 'limit' : 'time_window'} variable did not resolve to a positive integer`,
      );
    }
    return { limit: count, windowMs: window * 1000 };
  }

  /** The estimate in the strategy's unit: prompt size plus `max_tokens` (or the configured default). */
  private estimateCost(estimate: TokenEstimate): number {
    const completion = estimate.completion_tokens ?? this.prepared.defaultCompletionTokens;
    const prompt = estimate.prompt_tokens;
    return this.prepared.costOf({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      input_tokens: prompt,
      output_tokens: completion,
    });
  }

  /** §8.4: set in the access phase for every counter checked, Remaining 0 on a rejection. */
  private setHeaders(counter: ResolvedCounter, reservation: QuotaReservation): void {
    if (!this.prepared.showHeaders || this.ctx.res.headersSent) return;
    const remaining = reservation.admitted ? Math.max(0, counter.limit - reservation.usedBefore) : 0;
    const res = this.ctx.res;
    res.setHeader(counter.header('Limit'), String(counter.limit));
    res.setHeader(counter.header('Remaining'), String(remaining));
    res.setHeader(counter.header('Reset'), String(Math.floor(Math.max(0, reservation.resetMs) / 10) / 100));
  }

  /** The counters cannot be reached: let the request through (`allow_degradation`) or refuse it. */
  private storeFailed(error: unknown): Verdict {
    if (this.prepared.allowDegradation) {
      this.prepared.logger.warn(
        { err: error, route_id: this.ctx.routeId },
        'ai-rate-limiting counters unavailable; allow_degradation lets the request through',
      );
      return USE;
    }
    this.prepared.logger.error({ err: error, route_id: this.ctx.routeId }, 'ai-rate-limiting counters unavailable');
    return {
      kind: 'stop',
      stop: {
        kind: 'error',
        error: new SwitchboardError(
          'SB_ERR_QUOTA_STORE_UNAVAILABLE',
          'failed to check the AI rate limit: its counter store is unavailable',
        ),
      },
    };
  }
}

function amountOf(amount: RequestAmount, ctx: RequestContext): number | undefined {
  return typeof amount === 'number' ? amount : amount(ctx.vars);
}
