import { createHash } from 'node:crypto';
import {
  type AiRateLimitingConf,
  compileCostExpression,
  type QuotaCounterStore,
  type VarsContext,
} from '@switchboard/core';
import type { Logger } from 'pino';
import type { QuotaUsage } from '../ai-quota.js';

/** A count or window: fixed, or read from a request variable (`$http_x_quota`, admin-api.md §8.1). */
export type RequestAmount = number | ((vars: VarsContext) => number | undefined);

export interface QuotaLimit {
  readonly limit: RequestAmount;
  readonly windowSeconds: RequestAmount;
  /** Where this limit came from, for messages: `instances[2]`, `limit`, `rules[1]`. */
  readonly source: string;
}

export interface QuotaRule extends QuotaLimit {
  /** The counter key of one request: the `key` template with its variables resolved. */
  readonly key: (vars: VarsContext) => string;
  /** `X-AI-<prefix>-RateLimit-*`: `header_prefix`, or the 1-based rule index. */
  readonly headerPrefix: string;
}

/** ai-rate-limiting compiled once per config change (admin-api.md §8): nothing here runs per request. */
export interface PreparedAiRateLimiting {
  /**
   * `<holder key>#<hash of the conf>`: counters belong to the resource holding the conf (a route's quota
   * is shared by its consumers, a consumer's is its own, §8.2) and any change of the conf starts fresh
   * counters, while re-sending the same conf keeps them.
   */
  readonly counterPrefix: string;
  /** Per-instance limits (`instances[]`), by name. */
  readonly instanceLimits: ReadonlyMap<string, QuotaLimit>;
  /** The plugin-level `limit`: each instance not listed gets its own counter with it (§8.2, Q15). */
  readonly defaultLimit: QuotaLimit | undefined;
  /** `rules` mode: counters per resolved key, independent of the instance. */
  readonly rules: readonly QuotaRule[];
  /** The cost of a usage under `limit_strategy` / `cost_expr`. */
  readonly costOf: (usage: QuotaUsage) => number;
  readonly showHeaders: boolean;
  readonly rejectedCode: number;
  readonly rejectedMessage: string | undefined;
  readonly allowDegradation: boolean;
  /** Reserve-then-settle; false → APISIX's check-then-charge-after. */
  readonly reserve: boolean;
  readonly defaultCompletionTokens: number;
  readonly store: QuotaCounterStore;
  readonly logger: Logger;
}

/** The counter stores a data plane has (admin-api.md §8.2 `policy`). */
export interface QuotaStores {
  /** `local`: one per node, in the data-plane primary (or in process when there are no workers). */
  readonly local: QuotaCounterStore;
  /** `redis`, `redis-cluster`, `redis-sentinel`: one shared client per distinct connection settings. */
  readonly remote?: ((conf: AiRateLimitingConf) => QuotaCounterStore) | undefined;
}

/**
 * @example
 *   const prepared = prepareAiRateLimiting(conf, { holderKey: '/apisix/routes/1', logger }, stores);
 */
export function prepareAiRateLimiting(
  conf: AiRateLimitingConf,
  scope: { readonly holderKey: string; readonly logger: Logger },
  stores: QuotaStores,
): PreparedAiRateLimiting {
  const policy = conf.policy ?? 'local';
  let store = stores.local;
  if (policy !== 'local') {
    if (stores.remote === undefined) throw new Error(`ai-rate-limiting policy ${policy} is not available here`);
    store = stores.remote(conf);
  }
  const instanceLimits = new Map<string, QuotaLimit>();
  for (const [index, instance] of (conf.instances ?? []).entries()) {
    if (instanceLimits.has(instance.name)) continue;
    instanceLimits.set(instance.name, {
      limit: requestAmount(instance.limit),
      windowSeconds: requestAmount(instance.time_window),
      source: `instances[${index + 1}]`,
    });
  }
  const defaultLimit =
    conf.limit !== undefined && conf.time_window !== undefined
      ? { limit: requestAmount(conf.limit), windowSeconds: requestAmount(conf.time_window), source: 'limit' }
      : undefined;
  const rules = (conf.rules ?? []).map(
    (rule, index): QuotaRule => ({
      limit: requestAmount(rule.count),
      windowSeconds: requestAmount(rule.time_window),
      source: `rules[${index + 1}]`,
      key: compileKeyTemplate(rule.key),
      headerPrefix: rule.header_prefix ?? String(index + 1),
    }),
  );
  return {
    counterPrefix: `${scope.holderKey}#${confHash(conf)}`,
    instanceLimits,
    defaultLimit,
    rules,
    costOf: costFunction(conf),
    showHeaders: conf.show_limit_quota_header ?? true,
    rejectedCode: conf.rejected_code ?? 503,
    rejectedMessage: conf.rejected_msg,
    allowDegradation: conf.allow_degradation ?? false,
    reserve: conf.reservation?.enabled ?? true,
    defaultCompletionTokens: conf.reservation?.default_completion_tokens ?? 256,
    store,
    logger: scope.logger,
  };
}

/** A short, stable digest of the conf (key order does not matter). */
function confHash(conf: AiRateLimitingConf): string {
  return createHash('sha256').update(stableJson(conf)).digest('base64url').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${stableJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const VARIABLE = /^\$\{?([A-Za-z_][A-Za-z0-9_.]*)\}?$/;

/**
 * A number, a numeric string, or one `$variable` read per request; undefined when the request's value
 * is not a positive integer.
 */
function requestAmount(value: number | string): RequestAmount {
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const variable = VARIABLE.exec(value)?.[1];
  return (vars) => {
    const raw = variable === undefined ? undefined : vars.get(variable);
    const amount = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    return Number.isSafeInteger(amount) && amount > 0 ? amount : undefined;
  };
}

/** A `key` template: each `$name` / `${name}` replaced by that variable (empty when unset). */
function compileKeyTemplate(template: string): (vars: VarsContext) => string {
  const pattern = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
  if (!template.includes('$')) return () => template;
  return (vars) =>
    template.replace(pattern, (_match, braced: string | undefined, bare: string | undefined) => {
      const value = vars.get((braced ?? bare) as string);
      return value === undefined || value === null ? '' : String(value);
    });
}

/** §8.3 step 3: the strategy's field of the usage, or the evaluated `cost_expr`. */
function costFunction(conf: AiRateLimitingConf): (usage: QuotaUsage) => number {
  const strategy = conf.limit_strategy ?? 'total_tokens';
  if (strategy === 'expression') {
    const compiled = compileCostExpression(conf.cost_expr ?? '');
    // checkResource refused an invalid expression; never charge through one that slipped through.
    return compiled.ok ? compiled.evaluate : () => 0;
  }
  if (strategy === 'total_tokens')
    return (usage) => usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0);
  return (usage) => usage[strategy] ?? 0;
}
