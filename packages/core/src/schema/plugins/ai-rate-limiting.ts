import { type Static, Type } from '@sinclair/typebox';
import { ExclusiveUnion, requires, StringEnum } from '../keywords.js';
import { pluginConfSchema } from '../plugin-meta.js';

/**
 * `ai-rate-limiting` (admin-api.md §8.1, ai-proxy-multi.md §9.2): token quotas per instance of
 * ai-proxy / ai-proxy-multi, on a route, service or consumer. Cross-field rules the schema cannot word
 * like APISIX (policy connection fields, `cost_expr`) are in plugins/ai-rate-limiting-rules.ts.
 */

/** A positive integer, or a string naming a variable (`$http_x_quota`) resolved per request. */
const CountOrVariable = (minimum: number) => ExclusiveUnion([Type.Integer({ minimum }), Type.String({ minLength: 1 })]);

export const AiRateLimitInstanceSchema = Type.Object({
  /** An ai-proxy-multi instance name, or `ai-proxy-<provider>` for ai-proxy; dots are not variables. */
  name: Type.String({ minLength: 1 }),
  limit: CountOrVariable(1),
  time_window: CountOrVariable(1),
});
export type AiRateLimitInstanceConf = Static<typeof AiRateLimitInstanceSchema>;

export const AiRateLimitRuleSchema = Type.Object({
  count: CountOrVariable(1),
  time_window: CountOrVariable(1),
  /** A template of `$var` references (`$consumer_name $remote_addr`): one counter per resolved key. */
  key: Type.String({ minLength: 1 }),
  header_prefix: Type.Optional(Type.String({ minLength: 1 })),
});
export type AiRateLimitRuleConf = Static<typeof AiRateLimitRuleSchema>;

export const AI_RATE_LIMIT_STRATEGIES = ['total_tokens', 'prompt_tokens', 'completion_tokens', 'expression'] as const;
export const AI_RATE_LIMIT_POLICIES = ['local', 'redis', 'redis-cluster', 'redis-sentinel'] as const;
export type AiRateLimitPolicy = (typeof AI_RATE_LIMIT_POLICIES)[number];

/**
 * Beyond APISIX: reserve-then-settle. Before forwarding, the request reserves an estimate (prompt size
 * plus `max_tokens`, or `default_completion_tokens` when the client sets none) and settles to the real
 * usage when the answer ends, so concurrent requests cannot overrun a quota by more than one estimate.
 * `enabled: false` restores APISIX's charge-after-the-fact (an answer without usage is then free).
 */
export const AiRateLimitReservationSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true })),
    default_completion_tokens: Type.Optional(Type.Integer({ minimum: 0, default: 256 })),
  },
  { additionalProperties: false },
);

const SentinelSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
});

export const AiRateLimitingSchema = pluginConfSchema(
  {
    limit: Type.Optional(CountOrVariable(1)),
    time_window: Type.Optional(CountOrVariable(1)),
    instances: Type.Optional(Type.Array(AiRateLimitInstanceSchema, { minItems: 1 })),
    rules: Type.Optional(Type.Array(AiRateLimitRuleSchema, { minItems: 1 })),
    limit_strategy: Type.Optional(StringEnum(AI_RATE_LIMIT_STRATEGIES, { default: 'total_tokens' })),
    cost_expr: Type.Optional(Type.String({ minLength: 1 })),
    rejected_code: Type.Optional(Type.Integer({ minimum: 200, maximum: 599, default: 503 })),
    rejected_msg: Type.Optional(Type.String({ minLength: 1 })),
    show_limit_quota_header: Type.Optional(Type.Boolean({ default: true })),
    policy: Type.Optional(StringEnum(AI_RATE_LIMIT_POLICIES, { default: 'local' })),
    allow_degradation: Type.Optional(Type.Boolean({ default: false })),
    reservation: Type.Optional(AiRateLimitReservationSchema),

    redis_host: Type.Optional(Type.String({ minLength: 2 })),
    redis_port: Type.Optional(Type.Integer({ minimum: 1, default: 6379 })),
    redis_username: Type.Optional(Type.String({ minLength: 1 })),
    redis_password: Type.Optional(Type.String({ minLength: 0 })),
    redis_database: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    redis_timeout: Type.Optional(Type.Integer({ minimum: 1, default: 1000 })),
    redis_ssl: Type.Optional(Type.Boolean({ default: false })),
    redis_ssl_verify: Type.Optional(Type.Boolean({ default: false })),
    redis_keepalive_timeout: Type.Optional(Type.Integer({ minimum: 1000, default: 10000 })),
    redis_keepalive_pool: Type.Optional(Type.Integer({ minimum: 1, default: 100 })),

    redis_cluster_nodes: Type.Optional(
      Type.Array(Type.String({ minLength: 2, maxLength: 100 }), { minItems: 1, uniqueItems: true }),
    ),
    redis_cluster_name: Type.Optional(Type.String()),
    redis_cluster_ssl: Type.Optional(Type.Boolean({ default: false })),
    redis_cluster_ssl_verify: Type.Optional(Type.Boolean({ default: false })),

    redis_sentinels: Type.Optional(Type.Array(SentinelSchema, { minItems: 1 })),
    redis_master_name: Type.Optional(Type.String({ minLength: 1 })),
    redis_role: Type.Optional(StringEnum(['master', 'slave'], { default: 'master' })),
    redis_connect_timeout: Type.Optional(Type.Integer({ minimum: 1, default: 1000 })),
    redis_read_timeout: Type.Optional(Type.Integer({ minimum: 1, default: 1000 })),
    sentinel_username: Type.Optional(Type.String({ minLength: 1 })),
    sentinel_password: Type.Optional(Type.String({ minLength: 1 })),
  },
  {
    dependencies: { limit: ['time_window'], time_window: ['limit'] },
    oneOf: [{ anyOf: [requires('limit'), requires('instances')] }, requires('rules')],
  },
);
export type AiRateLimitingConf = Static<typeof AiRateLimitingSchema>;

/** admin-api.md §8.1: secrets encrypted at rest. */
export const AI_RATE_LIMITING_ENCRYPT_FIELDS = ['redis_password', 'sentinel_password'] as const;
