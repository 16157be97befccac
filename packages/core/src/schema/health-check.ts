import { type Static, Type } from '@sinclair/typebox';
import { HostSchema, HTTP_METHODS } from './common.js';
import { StringEnum } from './keywords.js';

const HttpStatuses = (defaults: number[]) =>
  Type.Array(Type.Integer({ minimum: 200, maximum: 599 }), { minItems: 1, uniqueItems: true, default: defaults });

const Counter = (minimum: number, defaultValue: number) =>
  Type.Integer({ minimum, maximum: 254, default: defaultValue });

/**
 * Active probes (ai-proxy-multi.md §1.9, shared with upstream `checks.active`).
 *
 * Deliberate deviations (DECISIONS.md "Fixed"):
 * - `healthy` and `unhealthy` default to `{}` so that a bare `active` object still gets
 *   `interval: 1` and probes every second (APISIX bug B2 leaves the interval at 0 = never probe).
 * - `type` has no schema default: the health checker uses the endpoint's scheme when it is absent
 *   (an https endpoint gets an https probe), so the default cannot be injected here.
 */
export const ActiveHealthCheckSchema = Type.Object({
  type: Type.Optional(StringEnum(['http', 'https', 'tcp'])),
  timeout: Type.Optional(Type.Number({ default: 1 })),
  concurrency: Type.Optional(Type.Integer({ default: 10 })),
  host: Type.Optional(HostSchema),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  http_method: Type.Optional(StringEnum(HTTP_METHODS, { default: 'GET' })),
  http_path: Type.Optional(Type.String({ default: '/' })),
  http_req_body: Type.Optional(Type.String({ default: '' })),
  https_verify_certificate: Type.Optional(Type.Boolean({ default: true })),
  req_headers: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  healthy: Type.Optional(
    Type.Object(
      {
        interval: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
        http_statuses: Type.Optional(HttpStatuses([200, 302])),
        successes: Type.Optional(Counter(1, 2)),
      },
      { default: {} },
    ),
  ),
  unhealthy: Type.Optional(
    Type.Object(
      {
        interval: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
        http_statuses: Type.Optional(HttpStatuses([429, 404, 500, 501, 502, 503, 504, 505])),
        http_failures: Type.Optional(Counter(1, 5)),
        tcp_failures: Type.Optional(Counter(1, 2)),
        timeouts: Type.Optional(Counter(1, 3)),
      },
      { default: {} },
    ),
  ),
});
export type ActiveHealthCheck = Static<typeof ActiveHealthCheckSchema>;

/** Passive checks exist only on plain upstreams (admin-api.md §4); AI instances have none. */
export const PassiveHealthCheckSchema = Type.Object({
  type: Type.Optional(StringEnum(['http', 'https', 'tcp'], { default: 'http' })),
  healthy: Type.Optional(
    Type.Object({
      http_statuses: Type.Optional(
        HttpStatuses([200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308]),
      ),
      successes: Type.Optional(Counter(0, 5)),
    }),
  ),
  unhealthy: Type.Optional(
    Type.Object({
      http_statuses: Type.Optional(HttpStatuses([429, 500, 503])),
      tcp_failures: Type.Optional(Counter(0, 2)),
      timeouts: Type.Optional(Counter(0, 7)),
      http_failures: Type.Optional(Counter(0, 5)),
    }),
  ),
});
export type PassiveHealthCheck = Static<typeof PassiveHealthCheckSchema>;
