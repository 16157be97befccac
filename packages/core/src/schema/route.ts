import { type Static, Type } from '@sinclair/typebox';
import {
  DESCRIPTIVE_FIELDS,
  HostSchema,
  HttpMethodSchema,
  IdSchema,
  NameSchema,
  PluginsSchema,
  RemoteAddrSchema,
  TimeoutSchema,
} from './common.js';
import { IntegerEnum, requires } from './keywords.js';
import { UpstreamSchema } from './upstream.js';

/** At most one of two fields: neither, or exactly one of them. */
const atMostOneOf = (a: string, b: string) => ({
  oneOf: [{ not: { anyOf: [requires(a), requires(b)] } }, requires(a), requires(b)],
});

/**
 * Route schema (admin-api.md §2.6). The structural rules are APISIX's own JSON-Schema keywords, so the
 * describer reports them with APISIX's messages: `allOf 1 failed: value should match only one schema,
 * but matches none`, `object matches none of the required: ["plugins","uri"] or ...`, `value wasn't
 * supposed to match schema`. Defaults (`priority`, `status`) apply to the runtime copy only (§2.8).
 */
export const RouteSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    name: Type.Optional(NameSchema),
    ...DESCRIPTIVE_FIELDS,

    uri: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    uris: Type.Optional(Type.Array(Type.String(), { minItems: 1, uniqueItems: true })),
    priority: Type.Optional(Type.Integer({ default: 0 })),
    methods: Type.Optional(Type.Array(HttpMethodSchema, { uniqueItems: true })),
    host: Type.Optional(HostSchema),
    hosts: Type.Optional(Type.Array(HostSchema, { minItems: 1, uniqueItems: true })),
    remote_addr: Type.Optional(RemoteAddrSchema),
    remote_addrs: Type.Optional(Type.Array(RemoteAddrSchema, { minItems: 1, uniqueItems: true })),
    timeout: Type.Optional(TimeoutSchema),
    /** A lua-resty-expr rule; its content is compiled by expr/vars-expression.ts. */
    vars: Type.Optional(Type.Array(Type.Unknown())),
    /** Lua; accepted by the schema for parity, then refused by checkResource (not executable here). */
    filter_func: Type.Optional(Type.String({ minLength: 10, pattern: '^function' })),
    script: Type.Optional(Type.String({ minLength: 10, maxLength: 102400 })),
    script_id: Type.Optional(IdSchema),

    plugins: Type.Optional(PluginsSchema),
    plugin_config_id: Type.Optional(IdSchema),
    upstream: Type.Optional(UpstreamSchema),
    service_id: Type.Optional(IdSchema),
    upstream_id: Type.Optional(IdSchema),
    enable_websocket: Type.Optional(Type.Boolean()),
    status: Type.Optional(IntegerEnum([1, 0], { default: 1 })),
  },
  {
    additionalProperties: false,
    allOf: [
      { oneOf: [requires('uri'), requires('uris')] },
      atMostOneOf('host', 'hosts'),
      atMostOneOf('remote_addr', 'remote_addrs'),
    ],
    anyOf: [
      requires('plugins', 'uri'),
      requires('upstream', 'uri'),
      requires('upstream_id', 'uri'),
      requires('service_id', 'uri'),
      requires('plugins', 'uris'),
      requires('upstream', 'uris'),
      requires('upstream_id', 'uris'),
      requires('service_id', 'uris'),
      requires('script', 'uri'),
      requires('script', 'uris'),
    ],
    not: { anyOf: [requires('script', 'plugins'), requires('script', 'plugin_config_id')] },
  },
);
export type Route = Static<typeof RouteSchema>;
