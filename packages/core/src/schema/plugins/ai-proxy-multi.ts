import { type Static, Type } from '@sinclair/typebox';
import { ActiveHealthCheckSchema } from '../health-check.js';
import { StringEnum } from '../keywords.js';
import { pluginConfSchema } from '../plugin-meta.js';
import { HASH_ON_VALUES } from '../upstream.js';
import { AI_AUTH_ENCRYPT_FIELDS, aiTargetProperties, aiTransportProperties } from './ai-proxy.js';

/** `ai-proxy-multi` (ai-proxy-multi.md §1.3, §1.4, §1.9, §2.11). Cross-field rules: plugins/ai-proxy-multi-rules.ts. */

/** §1.4: one upstream instance; `name` is its identity for the balancer, health and rate limits. */
export const AiInstanceSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  ...aiTargetProperties,
  priority: Type.Optional(Type.Integer({ default: 0 })),
  /** Required, no default (the docs' "string, default 0" is wrong, §1.12). */
  weight: Type.Integer({ minimum: 0 }),
  /** §1.9: active probes only. */
  checks: Type.Optional(Type.Object({ active: ActiveHealthCheckSchema })),
  /** Semantic algorithm only (§2.11). */
  examples: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 64 })),
  threshold: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
});
export type AiInstanceConf = Static<typeof AiInstanceSchema>;

export const BALANCER_ALGORITHMS = ['chash', 'roundrobin', 'semantic'] as const;
export type BalancerAlgorithm = (typeof BALANCER_ALGORITHMS)[number];

/**
 * `balancer`. Deliberate fix of APISIX bug B1: `algorithm` defaults to `roundrobin` inside a present
 * object too (APISIX only defaults the whole object, so `{"hash_on":"vars"}` fails every request).
 */
export const AiBalancerSchema = Type.Object(
  {
    algorithm: Type.Optional(StringEnum(BALANCER_ALGORITHMS, { default: 'roundrobin' })),
    hash_on: Type.Optional(StringEnum(HASH_ON_VALUES, { default: 'vars' })),
    key: Type.Optional(Type.String()),
  },
  { default: { algorithm: 'roundrobin' } },
);
export type AiBalancerConf = Static<typeof AiBalancerSchema>;

/** §1.3.1: the legacy string form or a set of tokens. */
export const FallbackStrategySchema = Type.Union([
  StringEnum(['instance_health_and_rate_limiting', 'http_429', 'http_5xx']),
  Type.Array(StringEnum(['rate_limiting', 'http_429', 'http_5xx'])),
]);
export type FallbackStrategy = Static<typeof FallbackStrategySchema>;

/** §2.11: the embedding service of the semantic algorithm; header/query auth only. */
export const SemanticEmbeddingsSchema = Type.Object({
  provider: StringEnum(['openai', 'azure-openai']),
  model: Type.String({ minLength: 1 }),
  endpoint: Type.Optional(Type.String()),
  auth: Type.Object(
    {
      header: Type.Optional(Type.Record(Type.String(), Type.String())),
      query: Type.Optional(Type.Record(Type.String(), Type.String())),
    },
    { additionalProperties: false },
  ),
  timeout: Type.Optional(Type.Integer({ minimum: 1, default: 3000 })),
  ssl_verify: Type.Optional(Type.Boolean({ default: true })),
});

export const SemanticOptionsSchema = Type.Object({
  embeddings: SemanticEmbeddingsSchema,
  threshold: Type.Optional(Type.Number({ minimum: -1, maximum: 1, default: 0 })),
  fallback: Type.Optional(Type.String({ minLength: 1 })),
  debugging: Type.Optional(Type.Boolean({ default: false })),
});
export type SemanticOptions = Static<typeof SemanticOptionsSchema>;

/**
 * Beyond APISIX (DECISIONS, docs/balancing.md), off unless present: live traffic takes an instance out.
 * `failures` consecutive 5xx answers, timeouts or connection errors → out for `cooldown_ms`; a 429 with
 * `Retry-After`/`retry-after-ms` → out for that long (at most `max_retry_after_ms`) when `retry_after`.
 */
export const PassiveHealthSchema = Type.Object(
  {
    failures: Type.Optional(Type.Integer({ minimum: 1, maximum: 254, default: 3 })),
    cooldown_ms: Type.Optional(Type.Integer({ minimum: 1, default: 30000 })),
    retry_after: Type.Optional(Type.Boolean({ default: true })),
    max_retry_after_ms: Type.Optional(Type.Integer({ minimum: 1, default: 300000 })),
  },
  { additionalProperties: false },
);
export type PassiveHealthConf = Static<typeof PassiveHealthSchema>;

export const AiProxyMultiSchema = pluginConfSchema({
  balancer: Type.Optional(AiBalancerSchema),
  instances: Type.Array(AiInstanceSchema, { minItems: 1 }),
  semantic_opts: Type.Optional(SemanticOptionsSchema),
  fallback_strategy: Type.Optional(FallbackStrategySchema),
  /** Extra statuses that trigger fallback, e.g. `[401, 402]` for a dead key. */
  fallback_http_statuses: Type.Optional(
    Type.Array(Type.Integer({ minimum: 400, maximum: 599 }), { minItems: 1, uniqueItems: true }),
  ),
  max_retries: Type.Optional(Type.Integer({ minimum: 0 })),
  retry_on_failure_within_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Beyond APISIX: passive health checks, off when absent. */
  passive_health: Type.Optional(PassiveHealthSchema),
  /** Beyond APISIX: `X-AI-Instance` and `X-AI-Attempts` on every response of the route (absent = off). */
  attempt_headers: Type.Optional(Type.Boolean()),
  ...aiTransportProperties,
  /**
   * Beyond APISIX (docs/balancing.md "Timeouts"), off when absent: ms from the response headers to the
   * first body bytes (SSE comments do not count); passing it before anything reached the client fails
   * the attempt like a timeout (504), so fallback may try the next instance.
   */
  first_token_timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Beyond APISIX, off when absent: ms without a byte once the body has started; a 504 or an honest end. */
  stall_timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Beyond APISIX, off when absent: ms for the whole request across attempts; no attempt starts after it. */
  request_deadline_ms: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type AiProxyMultiConf = Static<typeof AiProxyMultiSchema>;

/** admin-api.md §3.7: every instance's auth secrets plus the embedding service's. */
export const AI_PROXY_MULTI_ENCRYPT_FIELDS: readonly string[] = [
  ...AI_AUTH_ENCRYPT_FIELDS.map((path) => `instances.${path}`),
  'semantic_opts.embeddings.auth.header',
  'semantic_opts.embeddings.auth.query',
];
