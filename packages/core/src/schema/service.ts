import { type Static, Type } from '@sinclair/typebox';
import { DESCRIPTIVE_FIELDS, HostSchema, IdSchema, NameSchema, PluginsSchema } from './common.js';
import { UpstreamSchema } from './upstream.js';

/** Service schema (admin-api.md §4): plugins and an upstream shared by the routes that reference it. */
export const ServiceSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    name: Type.Optional(NameSchema),
    ...DESCRIPTIVE_FIELDS,

    plugins: Type.Optional(PluginsSchema),
    upstream: Type.Optional(UpstreamSchema),
    upstream_id: Type.Optional(IdSchema),
    /** Lua; accepted by the schema for parity, then refused by checkResource. */
    script: Type.Optional(Type.String({ minLength: 10, maxLength: 102400 })),
    enable_websocket: Type.Optional(Type.Boolean()),
    hosts: Type.Optional(Type.Array(HostSchema, { minItems: 1, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type Service = Static<typeof ServiceSchema>;
