import {
  type ObjectOptions,
  type Static,
  type TObject,
  type TOptional,
  type TProperties,
  Type,
} from '@sinclair/typebox';
import { ExclusiveUnion } from './keywords.js';

/**
 * `_meta`, injected into every plugin's route/service schema (admin-api.md §2.7). `filter` is a vars
 * expression compiled by checkResource. `pre_function` (Lua) is deliberately absent, so it is refused
 * as `additional properties forbidden, found pre_function`: Switchboard cannot run Lua.
 */
export const PluginMetaSchema = Type.Object(
  {
    disable: Type.Optional(Type.Boolean()),
    error_response: Type.Optional(ExclusiveUnion([Type.String(), Type.Record(Type.String(), Type.Unknown())])),
    priority: Type.Optional(Type.Integer()),
    filter: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);
export type PluginMeta = Static<typeof PluginMetaSchema>;

export type TPluginConf<T extends TProperties> = TObject<T & { _meta: TOptional<typeof PluginMetaSchema> }>;

/**
 * A plugin's route/service conf schema: its own properties plus `_meta`.
 *
 * @example const KeyAuthSchema = pluginConfSchema({ header: Type.Optional(Type.String()) });
 */
export function pluginConfSchema<T extends TProperties>(properties: T, options: ObjectOptions = {}): TPluginConf<T> {
  return Type.Object({ ...properties, _meta: Type.Optional(PluginMetaSchema) }, options);
}
