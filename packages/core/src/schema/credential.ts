import { type Static, Type } from '@sinclair/typebox';
import { DESCRIPTIVE_FIELDS, IdSchema, NameSchema } from './common.js';
import { ExclusiveUnion } from './keywords.js';

/**
 * Credential schema (admin-api.md §3.3). The `id` may also be the `<username>/credentials/<id>` form
 * the data plane writes back, which cannot overlap the plain id form (it contains `/`).
 */
export const CredentialIdSchema = ExclusiveUnion([
  IdSchema,
  Type.String({ minLength: 15, maxLength: 128, pattern: '^[a-zA-Z0-9-_]+/credentials/[a-zA-Z0-9-_.]+$' }),
]);

export const CredentialSchema = Type.Object(
  {
    id: Type.Optional(CredentialIdSchema),
    name: Type.Optional(NameSchema),
    ...DESCRIPTIVE_FIELDS,

    /** Exactly one auth plugin per credential (checked by checkResource). */
    plugins: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 1 })),
  },
  { additionalProperties: false },
);
export type Credential = Static<typeof CredentialSchema>;
