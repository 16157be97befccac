import {
  type AttemptVerdict,
  type FallbackEvent,
  type FallbackResult,
  type PickGates,
  pickAvailable,
  resolveHashKey,
  runFallbackLoop,
  SwitchboardError,
} from '@switchboard/core';
import type { InstanceHealthBoard } from '../../health/health-board.js';
import { passiveObservationOf } from '../../health/passive-observation.js';
import type { RequestContext, RuntimePlugin } from '../runtime-plugin.js';
import { type AttemptOutcome, runAttempt } from './attempt.js';
import { AttemptQuota, answerQuotaStop } from './attempt-quota.js';
import { AttemptTimeoutError, endedByDeadline, requestDeadline } from './attempt-timers.js';
import { createProviderAuthRuntime, type ProviderEnv } from './auth/provider-auth-runtime.js';
import { readClientAiRequest } from './client-request.js';
import type { AiProxyMultiConf } from './conf.js';
import { writeGatewayError } from './gateway-error.js';
import { recordClientRequest } from './log-fields.js';
import {
  type PreparedAiProxyMulti,
  type PreparedInstance,
  type PreparedSelection,
  prepareAiProxyMulti,
} from './prepare.js';
import { estimateRequestTokens } from './quota-estimate.js';
import { requestUpstreamHeaders } from './upstream-headers.js';

export interface AiProxyMultiDeps {
  /** Draws each picker's random start (at prepare time) and a multi-address instance's address per request. */
  readonly random: () => number;
  /** Monotonic milliseconds, for time to first token and upstream response time. */
  readonly now: () => number;
  /** Environment values providers read (`GCP_SERVICE_ACCOUNT`), handed down from the CLI. */
  readonly providerEnv?: ProviderEnv | undefined;
  /** Wall-clock milliseconds for GCP tokens and SigV4 dates; defaults to Date.now. */
  readonly wallClock?: (() => number) | undefined;
  /** The node's instance health (active probes, passive observations); everything healthy when absent. */
  readonly health?: InstanceHealthBoard | undefined;
}

/** An attempt that failed before any byte reached the client: fallback may still replace it (§3.2). */
type FailedOutcome = Extract<AttemptOutcome, { kind: 'failed' | 'upstream-error' }>;

/** A failed attempt's body (or error) in the §3.3 fallback log line, cut so a huge body cannot flood the log. */
const MAX_LOGGED_ERROR_BODY_CHARS = 2048;

/**
 * §3.2: `failed` and `upstream-error` outcomes sent nothing, so another instance may answer; everything
 * else is final. Checked against the response too: never a retry once a byte went downstream (§3.3).
 */
function verdictOf(ctx: RequestContext, outcome: AttemptOutcome): AttemptVerdict<AttemptOutcome, FailedOutcome> {
  if (ctx.res.headersSent) return { final: outcome };
  switch (outcome.kind) {
    case 'failed':
      return { failed: { status: outcome.error.status, detail: outcome.error.message, failure: outcome } };
    case 'upstream-error': {
      const detail = outcome.body.toString('utf8', 0, Math.min(outcome.body.length, MAX_LOGGED_ERROR_BODY_CHARS));
      return { failed: { status: outcome.status, detail, failure: outcome } };
    }
    default:
      return { final: outcome };
  }
}

/**
 * Answers the client with the attempt the fallback loop stopped at (§3.4). `status` replaces the
 * attempt's own on exhaustion (502 with the last upstream body and headers, or the last error).
 */
function finishAttempt(ctx: RequestContext, instanceName: string, outcome: AttemptOutcome, status?: number): void {
  switch (outcome.kind) {
    case 'relayed':
      return;
    case 'client-gone':
      ctx.logger.info(
        { instance: instanceName },
        'client disconnected during AI request, aborted the upstream request',
      );
      return;
    case 'broken-stream':
      ctx.logger.warn(
        { instance: instanceName, code: outcome.error.code },
        `AI stream broken after the first byte: ${outcome.error.message}`,
      );
      // Beyond APISIX: the access line says the stream failed, and on which instance.
      ctx.logFields.ai_stream_error = {
        instance: instanceName,
        code: outcome.error.code,
        message: outcome.error.message,
      };
      return;
    case 'failed':
      writeGatewayError(
        ctx.res,
        status === undefined
          ? outcome.error
          : new SwitchboardError(outcome.error.code, outcome.error.message, { status, cause: outcome.error }),
      );
      return;
    case 'upstream-error':
      // §3.4: the upstream's status and body, headers relayed (DECISIONS).
      if (ctx.res.destroyed || ctx.res.headersSent) return;
      ctx.res.writeHead(status ?? outcome.status, {
        ...outcome.headers,
        'content-length': String(outcome.body.length),
      });
      ctx.res.end(outcome.body);
      return;
  }
}

/** Writes how the fallback loop ended (§3.4) and records the attempts for the access log. */
function answer(ctx: RequestContext, result: FallbackResult<AttemptOutcome, FailedOutcome>): void {
  ctx.logFields.ai_attempts = result.attempts;
  switch (result.kind) {
    case 'final':
      finishAttempt(ctx, result.instance, result.final);
      return;
    case 'nothing-to-pick':
      writeGatewayError(ctx.res, new SwitchboardError('SB_ERR_ALL_TRIED', 'all servers tried'));
      return;
    case 'gave-up':
      finishAttempt(ctx, result.instance, result.failed.failure);
      return;
    case 'exhausted':
      finishAttempt(ctx, result.instance, result.failed.failure, 502);
      return;
    case 'deadline':
      writeGatewayError(ctx.res, new AttemptTimeoutError('request_deadline_ms'));
      return;
  }
}

/** §3.5, §8.3: APISIX's warn lines; each failed attempt is attributed to its instance (Beyond APISIX). */
function logFallbackEvent(ctx: RequestContext, event: FallbackEvent): void {
  switch (event.type) {
    case 'attempt-failed': {
      const failedAttempts = (ctx.logFields.ai_failed_attempts ?? []) as Array<{ instance: string; status: number }>;
      failedAttempts.push({ instance: event.instance, status: event.status });
      ctx.logFields.ai_failed_attempts = failedAttempts;
      ctx.logger.info({ instance: event.instance, attempt: event.attempt, status: event.status }, event.message);
      return;
    }
    case 'falling-back':
      ctx.logger.warn({ instance: event.from, next: event.to, status: event.status }, event.message);
      return;
    case 'max-retries':
    case 'slow-failure':
    case 'deadline':
      ctx.logger.warn({ instance: event.instance }, event.message);
      return;
    case 'pick-failed':
      ctx.logger.error({ instance: event.instance }, event.message);
      return;
  }
}

/** The chash key of this request (§2.5); a missing key falls back to the client address with a warning. */
function requestHashKey(ctx: RequestContext, selection: PreparedSelection): string | undefined {
  if (selection.hashRule === undefined) return undefined;
  const resolved = resolveHashKey(selection.hashRule, {
    vars: ctx.vars,
    consumerName: ctx.consumer?.username,
    remoteAddr: String(ctx.vars.get('remote_addr') ?? ''),
  });
  if (resolved.fellBack) {
    ctx.logger.warn(
      { hash_on: selection.hashRule.hash_on, key: selection.hashRule.key },
      'chash key is missing or empty; hashing on the client address',
    );
  }
  return resolved.key;
}

/** What the pick loop consults for this request (§2.6, §2.7), with APISIX's warn line per skipped instance. */
function pickGates(ctx: RequestContext, selection: PreparedSelection): PickGates {
  return {
    health: selection.health,
    onSkip: (name, reason) =>
      ctx.logger.warn(
        { instance: name },
        reason === 'unhealthy'
          ? `ai instance: ${name} is unhealthy, try to pick another one`
          : `ai instance: ${name} is not available, try to pick another one`,
      ),
  };
}

/**
 * The runtime half of ai-proxy-multi (ai-proxy-multi.md §2–§6): `prepare` compiles the conf once per
 * change; `access` validates the body, then runs the fallback loop (§3) over `runAttempt`: pick (health,
 * rate limits, tried set), attempt, and on a failure nothing was sent for, decide and try the next
 * instance. It writes the response itself, so it always returns `'handled'`. Gateway-made errors are
 * OpenAI-shaped JSON (DECISIONS).
 *
 * @example
 *   const plugin = createAiProxyMultiPlugin({ random: Math.random, now: () => performance.now() });
 */
export function createAiProxyMultiPlugin(
  deps: AiProxyMultiDeps,
): RuntimePlugin<AiProxyMultiConf, PreparedAiProxyMulti> {
  // One per plugin instance (per worker): GCP tokens outlive config changes.
  const providerAuth = createProviderAuthRuntime({ env: deps.providerEnv, wallClock: deps.wallClock });
  const wallClock = deps.wallClock ?? Date.now;
  return {
    name: 'ai-proxy-multi',
    prepare: (conf, scope) =>
      prepareAiProxyMulti(conf, scope, { random: deps.random, providerAuth, health: deps.health }),
    async access(ctx, prepared): Promise<'handled'> {
      const request = await readClientAiRequest(ctx, prepared.maxRequestBodyBytes);
      if (request instanceof SwitchboardError) {
        writeGatewayError(ctx.res, request);
        return 'handled';
      }
      recordClientRequest(ctx.logFields, request);

      const requestHeaders = requestUpstreamHeaders(ctx);
      const hashKey = requestHashKey(ctx, prepared);
      const gates = pickGates(ctx, prepared);
      const quota =
        ctx.aiQuota === undefined ? undefined : new AttemptQuota(ctx.aiQuota, estimateRequestTokens(request));
      if (prepared.attemptHeaders) ctx.res.setHeader('x-ai-attempts', '0');
      const deadline = requestDeadline(prepared.requestDeadlineMs, deps.now);
      const result = await runFallbackLoop<AttemptOutcome, FailedOutcome>({
        policy: prepared.fallback,
        deadlinePassed: deadline.passed,
        // Without ai-rate-limiting the pick stays synchronous: no promise per request.
        pick:
          quota === undefined
            ? (tried) => prepared.balancer.pick({ tried, hashKey }, gates)
            : async (tried) => {
                // §2.7, §9.1: with the `rate_limiting` strategy an exhausted instance is skipped; without
                // it only the first pick is checked and an exhausted one rejects the request.
                const picked = await pickAvailable(
                  prepared.balancer,
                  { tried, hashKey },
                  gates,
                  quota.gateFor(prepared.fallback.rateLimiting),
                );
                if (picked.kind === 'picked') return picked.name;
                if (picked.kind === 'stopped') quota.stopWith(picked.stop);
                return undefined;
              },
        now: deps.now,
        onEvent: (event) => logFallbackEvent(ctx, event),
        async attempt(name, attempt) {
          // The balancer only returns configured names.
          const instance = prepared.instances.get(name) as PreparedInstance;
          if (prepared.attemptHeaders) {
            ctx.res.setHeader('x-ai-instance', name);
            ctx.res.setHeader('x-ai-attempts', String(attempt));
          }
          // Each attempt shapes its own copy of the client body (§3.1): a failed instance's options never leak.
          const outcome = await runAttempt({
            ctx,
            request,
            instance,
            settings: prepared,
            requestHeaders,
            now: deps.now,
            wallClock,
            deadlineAt: deadline.at,
            onUsage: quota === undefined ? undefined : (usage) => quota.answered(name, usage),
          });
          quota?.finished(name);
          const passive = prepared.passiveHealth;
          const observation = passive === undefined ? undefined : passiveObservationOf(outcome, wallClock());
          if (passive !== undefined && observation !== undefined && !endedByDeadline(outcome))
            passive.board.report(passive.keys.get(name) ?? name, observation);
          return verdictOf(ctx, outcome);
        },
      });
      if (quota?.stop !== undefined) answerQuotaStop(ctx, quota.stop);
      else answer(ctx, result);
      return 'handled';
    },
  };
}

/** The plugin as the pipeline registers it. */
export const aiProxyMultiPlugin = createAiProxyMultiPlugin({ random: Math.random, now: () => performance.now() });
