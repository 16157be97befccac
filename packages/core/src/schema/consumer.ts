import { type Static, Type } from '@sinclair/typebox';
import { DescSchema, IdSchema, LabelsSchema, PluginsSchema, TimestampSchema } from './common.js';

/**
 * Consumer schema (admin-api.md §3.2). The username is the identity and the etcd key; `id` is
 * tolerated but unused.
 */
export const ConsumerSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    username: Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9_\\-]+$' }),
    desc: Type.Optional(DescSchema),
    labels: Type.Optional(LabelsSchema),
    create_time: Type.Optional(TimestampSchema),
    update_time: Type.Optional(TimestampSchema),

    group_id: Type.Optional(IdSchema),
    plugins: Type.Optional(PluginsSchema),
  },
  { additionalProperties: false },
);
export type Consumer = Static<typeof ConsumerSchema>;
