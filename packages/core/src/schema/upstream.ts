import { type Static, Type } from '@sinclair/typebox';
import { DESCRIPTIVE_FIELDS, HostSchema, IdSchema, NameSchema, TimeoutSchema } from './common.js';
import { ActiveHealthCheckSchema, PassiveHealthCheckSchema } from './health-check.js';
import { requires, StringEnum } from './keywords.js';

/** Upstream schema (admin-api.md §4). Only roundrobin over `nodes` is proxied for now. */

const NodeWeight = Type.Integer({ minimum: 0 });

/** `nodes` as `{"host:port": weight}` or as a list of node objects. */
export const UpstreamNodesSchema = Type.Union([
  Type.Record(Type.String({ pattern: '.*' }), NodeWeight),
  Type.Array(
    Type.Object({
      host: HostSchema,
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      weight: NodeWeight,
      priority: Type.Optional(Type.Integer({ default: 0 })),
      metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  ),
]);
export type UpstreamNodes = Static<typeof UpstreamNodesSchema>;

export const HASH_ON_VALUES = ['vars', 'header', 'cookie', 'consumer', 'vars_combinations'] as const;
export type HashOn = (typeof HASH_ON_VALUES)[number];

/** What a chash `key` must look like for each `hash_on` (`consumer` needs no key). */
export const HASH_KEY_SCHEMAS = {
  vars: Type.String({
    pattern:
      '^((uri|server_name|server_addr|request_uri|remote_port|remote_addr|query_string|host|hostname|mqtt_client_id)|arg_[0-9a-zA-z_-]+)$',
  }),
  header: Type.String({ pattern: '^[a-zA-Z0-9-_]+$' }),
  cookie: Type.String({ pattern: '^[a-zA-Z0-9-_]+$' }),
  vars_combinations: Type.String(),
} as const;

const HealthCheckSchema = Type.Object(
  { active: Type.Optional(ActiveHealthCheckSchema), passive: Type.Optional(PassiveHealthCheckSchema) },
  { anyOf: [requires('active'), requires('active', 'passive')] },
);

const UpstreamTlsSchema = Type.Object(
  {
    client_cert_id: Type.Optional(IdSchema),
    client_cert: Type.Optional(Type.String({ minLength: 128, maxLength: 64 * 1024 })),
    client_key: Type.Optional(Type.String({ minLength: 64, maxLength: 64 * 1024 })),
    verify: Type.Optional(Type.Boolean({ default: false })),
  },
  {
    dependencies: {
      client_cert: requires('client_key'),
      client_key: requires('client_cert'),
      client_cert_id: { not: requires('client_cert', 'client_key') },
    },
  },
);

export const UpstreamSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    name: Type.Optional(NameSchema),
    ...DESCRIPTIVE_FIELDS,

    nodes: Type.Optional(UpstreamNodesSchema),
    retries: Type.Optional(Type.Integer({ minimum: 0 })),
    retry_timeout: Type.Optional(Type.Number({ minimum: 0 })),
    timeout: Type.Optional(TimeoutSchema),
    tls: Type.Optional(UpstreamTlsSchema),
    keepalive_pool: Type.Optional(
      Type.Object({
        size: Type.Optional(Type.Integer({ minimum: 1, default: 320 })),
        idle_timeout: Type.Optional(Type.Number({ minimum: 0, default: 60 })),
        requests: Type.Optional(Type.Integer({ minimum: 1, default: 1000 })),
      }),
    ),
    /** No enum, as in APISIX; the data plane only implements `roundrobin`. */
    type: Type.Optional(Type.String({ default: 'roundrobin' })),
    checks: Type.Optional(HealthCheckSchema),
    hash_on: Type.Optional(StringEnum(HASH_ON_VALUES, { default: 'vars' })),
    key: Type.Optional(Type.String()),
    scheme: Type.Optional(
      StringEnum(['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'udp', 'kafka'], { default: 'http' }),
    ),
    discovery_type: Type.Optional(Type.String()),
    discovery_args: Type.Optional(
      Type.Object({ namespace_id: Type.Optional(Type.String()), group_name: Type.Optional(Type.String()) }),
    ),
    pass_host: Type.Optional(StringEnum(['pass', 'node', 'rewrite'], { default: 'pass' })),
    upstream_host: Type.Optional(HostSchema),
    service_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  {
    additionalProperties: false,
    oneOf: [requires('nodes'), requires('service_name', 'discovery_type')],
  },
);
export type Upstream = Static<typeof UpstreamSchema>;
