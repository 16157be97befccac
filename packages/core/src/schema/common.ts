import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './keywords.js';

/** Building blocks shared by the resource schemas (admin-api.md §2.2, §2.6, §4). */

/** §2.2: a string of 1–64 safe characters, or an integer ≥ 1. */
export const IdSchema = Type.Union([
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-_.]+$' }),
  Type.Integer({ minimum: 1 }),
]);
export type ResourceId = Static<typeof IdSchema>;

export const NameSchema = Type.String({ minLength: 1, maxLength: 256 });
export const DescSchema = Type.String({ maxLength: 256 });
export const TimestampSchema = Type.Integer();

/** `labels`: every value a non-blank string of 1–256 characters. */
export const LabelsSchema = Type.Record(
  Type.String({ pattern: '.*' }),
  Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S+$' }),
);
export type Labels = Static<typeof LabelsSchema>;

/** The descriptive fields every resource carries (admin-api.md §2.6, §3.2, §3.3, §4). */
export const DESCRIPTIVE_FIELDS = {
  desc: Type.Optional(DescSchema),
  labels: Type.Optional(LabelsSchema),
  create_time: Type.Optional(TimestampSchema),
  update_time: Type.Optional(TimestampSchema),
};

/** Exact host, `*.suffix` wildcard, or a bare `*` (admin-api.md §6.2 host syntax). */
export const HOST_PATTERN = '^\\*$|^\\*?[0-9a-zA-Z-._\\[\\]:]+$';
export const HostSchema = Type.String({ pattern: HOST_PATTERN });

const IPV4 = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}';
const HEX = '[0-9a-fA-F]{1,4}';
/** RFC 4291 §2.2 text forms: full, `::`-compressed, and with an embedded dotted IPv4 tail. */
const IPV6 = [
  `(?:${HEX}:){7}${HEX}`,
  `(?:${HEX}:){1,7}:`,
  `(?:${HEX}:){1,6}:${HEX}`,
  `(?:${HEX}:){1,5}(?::${HEX}){1,2}`,
  `(?:${HEX}:){1,4}(?::${HEX}){1,3}`,
  `(?:${HEX}:){1,3}(?::${HEX}){1,4}`,
  `(?:${HEX}:){1,2}(?::${HEX}){1,5}`,
  `${HEX}:(?::${HEX}){1,6}`,
  `:(?:(?::${HEX}){1,7}|:)`,
  `(?:${HEX}:){6}${IPV4}`,
  `::(?:${HEX}:){0,5}${IPV4}`,
  `(?:${HEX}:){1,5}:(?:${HEX}:){0,4}${IPV4}`,
].join('|');

export const IPV4_PATTERN = `^${IPV4}$`;
export const IPV4_CIDR_PATTERN = `^${IPV4}/(?:[12]?[0-9]|3[0-2])$`;
export const IPV6_PATTERN = `^(?:${IPV6})$`;
export const IPV6_CIDR_PATTERN = `^(?:${IPV6})/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])$`;

/** `remote_addr`: IPv4, IPv4/CIDR, IPv6 or IPv6/CIDR (§2.6). */
export const RemoteAddrSchema = Type.Union(
  [
    Type.String({ title: 'IPv4', pattern: IPV4_PATTERN }),
    Type.String({ title: 'IPv4/CIDR', pattern: IPV4_CIDR_PATTERN }),
    Type.String({ title: 'IPv6', pattern: IPV6_PATTERN }),
    Type.String({ title: 'IPv6/CIDR', pattern: IPV6_CIDR_PATTERN }),
  ],
  { type: 'string' },
);

/** `timeout` of routes and upstreams, in seconds; all three are required. */
export const TimeoutSchema = Type.Object({
  connect: Type.Number({ exclusiveMinimum: 0 }),
  send: Type.Number({ exclusiveMinimum: 0 }),
  read: Type.Number({ exclusiveMinimum: 0 }),
});
export type Timeout = Static<typeof TimeoutSchema>;

export const HTTP_METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  'PURGE',
] as const;
export const HttpMethodSchema = StringEnum(HTTP_METHODS);
export type HttpMethod = Static<typeof HttpMethodSchema>;

/** `plugins` of routes, services and consumers: each conf is checked by its own plugin schema (§2.7). */
export const PluginsSchema = Type.Record(Type.String(), Type.Unknown());
export type PluginConfs = Static<typeof PluginsSchema>;
