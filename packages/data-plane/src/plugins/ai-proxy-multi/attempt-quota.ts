import { type InstanceAvailability, SwitchboardError } from '@switchboard/core';
import { sendResponse } from '../../server/respond.js';
import type { AiQuotaGate, QuotaStop, QuotaTicket, QuotaUsage, TokenEstimate } from '../ai-quota.js';
import type { RequestContext } from '../runtime-plugin.js';
import { writeGatewayError } from './gateway-error.js';
import type { TokenUsage } from './protocols/protocol.js';

/**
 * ai-rate-limiting as one request's fallback loop sees it (ai-proxy-multi.md §2.7, §9): the pick gate,
 * and for each attempt the reservation it made, settled when the attempt answered (with its usage) or
 * released when it failed before answering, so usage is charged to the instance that answered.
 */
export class AttemptQuota {
  /** Set when the gate ended the request (rejected, or its counters unreachable). */
  stop: QuotaStop | undefined;
  private admitted = 0;
  private readonly tickets = new Map<string, QuotaTicket>();

  constructor(
    private readonly gate: AiQuotaGate,
    private readonly estimate: TokenEstimate,
  ) {}

  /**
   * The availability check of the pick loop. With the `rate_limiting` strategy every candidate is
   * checked and an exhausted one skipped; without it only the first pick is checked (APISIX's access
   * check) and a retry's instance is charged unchecked.
   */
  gateFor(rateLimiting: boolean): InstanceAvailability<QuotaStop> {
    return async (name) => {
      const verdict = await this.gate.admit(name, {
        check: rateLimiting || this.admitted === 0,
        skippable: rateLimiting,
        estimate: this.estimate,
      });
      if (verdict.kind === 'use') {
        this.admitted += 1;
        if (verdict.ticket !== undefined) this.tickets.set(name, verdict.ticket);
      }
      return verdict;
    };
  }

  stopWith(stop: QuotaStop): void {
    this.stop = stop;
  }

  /**
   * The attempt on `instance` got an answer (usage undefined when it carried none): settle its
   * reservation. Called before the response ends, so the client's next request sees the settled
   * counter; a second call for the same attempt does nothing.
   */
  answered(instance: string, usage: TokenUsage | undefined): Promise<void> | undefined {
    const ticket = this.tickets.get(instance);
    if (ticket === undefined) return undefined;
    this.tickets.delete(instance);
    return this.gate.settle(ticket, usage === undefined ? undefined : quotaUsageOf(usage));
  }

  /** The attempt on `instance` is over: a reservation it did not settle by answering is given back. */
  finished(instance: string): void {
    const ticket = this.tickets.get(instance);
    if (ticket === undefined) return;
    this.tickets.delete(instance);
    this.gate.release(ticket);
  }
}

/** The fields `limit_strategy` and `cost_expr` read; `input_tokens`/`output_tokens` alias the OpenAI names. */
function quotaUsageOf(usage: TokenUsage): QuotaUsage {
  return { ...usage, input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens };
}

/**
 * §8.3: a rejection answers `rejected_code` with `{"error_msg": rejected_msg}` like APISIX, or, without a
 * message, an OpenAI-shaped error (DECISIONS: gateway errors on AI routes have a body SDKs can read).
 */
export function answerQuotaStop(ctx: RequestContext, stop: QuotaStop): void {
  if (stop.kind === 'error') {
    writeGatewayError(ctx.res, stop.error);
    return;
  }
  if (stop.message !== undefined) {
    sendResponse(ctx.res, stop.status, { error_msg: stop.message });
    return;
  }
  writeGatewayError(
    ctx.res,
    new SwitchboardError('SB_ERR_RATE_LIMITED', `token quota exceeded for ${stop.instance}`, { status: stop.status }),
  );
}
