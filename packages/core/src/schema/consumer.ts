import { type Static, Type } from '@sinclair/typebox';
import { DESCRIPTIVE_FIELDS, IdSchema, PluginsSchema } from './common.js';

/**
 * Consumer schema (admin-api.md §3.2). The username is the identity and the etcd key; `id` is
 * tolerated but unused.
 */
export const ConsumerSchema = Type.Object(
  {
    id: Type.Optional(IdSchema),
    username: Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9_\\-]+$' }),
    ...DESCRIPTIVE_FIELDS,

    group_id: Type.Optional(IdSchema),
    plugins: Type.Optional(PluginsSchema),
  },
  { additionalProperties: false },
);
export type Consumer = Static<typeof ConsumerSchema>;
