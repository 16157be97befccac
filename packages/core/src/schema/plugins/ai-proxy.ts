import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { StringEnum } from '../keywords.js';
import { pluginConfSchema } from '../plugin-meta.js';

/**
 * Schemas shared by `ai-proxy` and `ai-proxy-multi` (ai-proxy-multi.md §1.1, §1.2, §1.5–§1.8, §1.10).
 * ai-proxy-multi.ts composes the same property groups into its instances, so no field list is
 * written twice.
 */

export const AI_PROVIDERS = [
  'openai',
  'deepseek',
  'aimlapi',
  'anthropic',
  'openai-compatible',
  'azure-openai',
  'openrouter',
  'gemini',
  'vertex-ai',
  'bedrock',
] as const;
export type AiProviderName = (typeof AI_PROVIDERS)[number];

/** Target protocols an `override.request_body` patch can be keyed by (§1.7). */
export const AI_TARGET_PROTOCOLS = [
  'anthropic-messages',
  'bedrock-converse',
  'openai-chat',
  'openai-embeddings',
  'openai-responses',
  'passthrough',
] as const;
export type AiTargetProtocol = (typeof AI_TARGET_PROTOCOLS)[number];

/** Header names or query parameter names → values; sent upstream as-is (§4.3). */
const AuthValuesSchema = Type.Record(Type.String({ pattern: '^[a-zA-Z0-9._-]+$' }), Type.String());

/**
 * §1.5. Deliberately exactly the four names (APISIX matches the keys by regex, so `x-header` slips
 * through, quirk Q16). `{}` stays valid, as in APISIX.
 */
export const AiAuthSchema = Type.Object(
  {
    header: Type.Optional(AuthValuesSchema),
    query: Type.Optional(AuthValuesSchema),
    gcp: Type.Optional(
      Type.Object({
        service_account_json: Type.Optional(Type.String()),
        max_ttl: Type.Optional(Type.Integer({ minimum: 1 })),
        expire_early_secs: Type.Optional(Type.Integer({ minimum: 0, default: 60 })),
      }),
    ),
    aws: Type.Optional(
      Type.Object({
        access_key_id: Type.String({ minLength: 1 }),
        secret_access_key: Type.String({ minLength: 1 }),
        session_token: Type.Optional(Type.String({ minLength: 1 })),
      }),
    ),
  },
  { additionalProperties: false },
);
export type AiAuth = Static<typeof AiAuthSchema>;

/** Dotted paths of `auth` that are encrypted at rest (admin-api.md §3.7). */
export const AI_AUTH_ENCRYPT_FIELDS = [
  'auth.header',
  'auth.query',
  'auth.gcp.service_account_json',
  'auth.aws.secret_access_key',
  'auth.aws.session_token',
] as const;

/** §1.6: free-form; every key overwrites the client's body field. */
export const AiModelOptionsSchema = Type.Object(
  { model: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
export type AiModelOptions = Static<typeof AiModelOptionsSchema>;

/** `{key: schema}` for each key, typed so Static<> keeps the key names. */
function sameSchemaFor<K extends string, S extends TSchema>(keys: readonly K[], schema: S): Record<K, S> {
  return Object.fromEntries(keys.map((key) => [key, schema])) as Record<K, S>;
}

/** §1.7. Unknown keys directly under `override` are accepted, as in APISIX. */
export const AiOverrideSchema = Type.Object({
  endpoint: Type.Optional(Type.String({ minLength: 1 })),
  llm_options: Type.Optional(
    Type.Object({ max_tokens: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
  ),
  request_body: Type.Optional(
    Type.Object(sameSchemaFor(AI_TARGET_PROTOCOLS, Type.Optional(Type.Record(Type.String(), Type.Unknown()))), {
      additionalProperties: false,
    }),
  ),
  request_body_force_override: Type.Optional(Type.Boolean({ default: false })),
});
export type AiOverride = Static<typeof AiOverrideSchema>;

/** §1.8; which fields a provider needs is checked by the cross-field rules (§1.11). */
export const AiProviderConfSchema = Type.Object({
  project_id: Type.Optional(Type.String()),
  region: Type.Optional(Type.String({ minLength: 1 })),
});
export type AiProviderConf = Static<typeof AiProviderConfSchema>;

/** §1.10. */
export const AiLoggingSchema = Type.Object({
  summaries: Type.Optional(Type.Boolean({ default: false })),
  payloads: Type.Optional(Type.Boolean({ default: false })),
});
export type AiLogging = Static<typeof AiLoggingSchema>;

/** Where one upstream call goes and how it is authenticated: an ai-proxy conf or one ai-proxy-multi instance. */
export const aiTargetProperties = {
  provider: StringEnum(AI_PROVIDERS),
  provider_conf: Type.Optional(AiProviderConfSchema),
  auth: AiAuthSchema,
  options: Type.Optional(AiModelOptionsSchema),
  override: Type.Optional(AiOverrideSchema),
};

/** §1.1: transport limits and logging shared by both plugins (times in ms, sizes in bytes). */
export const aiTransportProperties = {
  logging: Type.Optional(AiLoggingSchema),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 600000, default: 30000 })),
  max_req_body_size: Type.Optional(Type.Integer({ minimum: 1, default: 67108864 })),
  max_stream_duration_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  max_response_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
  keepalive: Type.Optional(Type.Boolean({ default: true })),
  keepalive_timeout: Type.Optional(Type.Integer({ minimum: 1000, default: 60000 })),
  keepalive_pool: Type.Optional(Type.Integer({ minimum: 1, default: 30 })),
  /** Accepted for compatibility; Switchboard forwards every chunk as it arrives (DECISIONS.md). */
  streaming_flush_interval_ms: Type.Optional(Type.Integer({ minimum: 0, default: 10 })),
  ssl_verify: Type.Optional(Type.Boolean({ default: true })),
};

/** `ai-proxy` (§1.2): one upstream, never retries. */
export const AiProxySchema = pluginConfSchema({ ...aiTargetProperties, ...aiTransportProperties });
export type AiProxyConf = Static<typeof AiProxySchema>;
