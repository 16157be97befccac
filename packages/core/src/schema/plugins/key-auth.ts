import { type Static, Type } from '@sinclair/typebox';
import { pluginConfSchema } from '../plugin-meta.js';

/** key-auth on a route or service (admin-api.md §7). `{}` is valid; every field has a default. */
export const KeyAuthSchema = pluginConfSchema({
  header: Type.Optional(Type.String({ default: 'apikey' })),
  query: Type.Optional(Type.String({ default: 'apikey' })),
  /** Printable ASCII without `"` and `\`, so it can sit inside the WWW-Authenticate quotes. */
  realm: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x20-\\x21\\x23-\\x5B\\]-\\x7E]+$', default: 'key' }),
  ),
  hide_credentials: Type.Optional(Type.Boolean({ default: false })),
  anonymous_consumer: Type.Optional(Type.String({ minLength: 1 })),
});
export type KeyAuthConf = Static<typeof KeyAuthSchema>;

/** key-auth on a consumer or credential: the key itself (encrypted at rest, admin-api.md §3.7). */
export const KeyAuthConsumerSchema = Type.Object({ key: Type.String() });
export type KeyAuthConsumerConf = Static<typeof KeyAuthConsumerSchema>;
