import { isIP } from 'node:net';
import type { ActiveHealthCheck } from '../schema/health-check.js';

/**
 * `checks.active` defaults (ai-proxy-multi.md §1.9), in one literal. The schema injects the same values
 * into objects that exist; these cover a conf that did not go through it. `healthy`/`unhealthy` intervals
 * are 1 s even when the sub-object is absent (DECISIONS: APISIX bug B2 never probes then).
 */
export const ACTIVE_CHECK_DEFAULTS = {
  timeoutSeconds: 1,
  concurrency: 10,
  httpMethod: 'GET',
  httpPath: '/',
  httpRequestBody: '',
  httpsVerifyCertificate: true,
  healthy: { intervalSeconds: 1, httpStatuses: [200, 302], successes: 2 },
  unhealthy: {
    intervalSeconds: 1,
    httpStatuses: [429, 404, 500, 501, 502, 503, 504, 505],
    httpFailures: 5,
    tcpFailures: 2,
    timeouts: 3,
  },
} as const;

export type ProbeType = 'http' | 'https' | 'tcp';

/** The instance's endpoint as the probe sees it: its origin (§7.2). */
export interface ProbeEndpoint {
  readonly scheme: 'http' | 'https';
  /** Host name or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** One probe, fully resolved: where to connect and exactly what to send (§7.2). */
export interface ProbeSpec {
  readonly type: ProbeType;
  readonly host: string;
  readonly port: number;
  /** The `Host` header, and the TLS server name when it is not an IP. */
  readonly hostHeader: string;
  readonly timeoutMs: number;
  readonly method: string;
  /** `http_path` with `auth.query` appended. */
  readonly path: string;
  readonly body: string;
  readonly verifyCertificate: boolean;
  /** `Name: value` lines: `req_headers`, then one per `auth.header` entry not already present. */
  readonly headerLines: readonly string[];
}

/** The counters and intervals of the state machine (§7.3). */
export interface HealthThresholds {
  readonly healthy: {
    readonly intervalMs: number;
    readonly httpStatuses: readonly number[];
    readonly successes: number;
  };
  readonly unhealthy: {
    readonly intervalMs: number;
    readonly httpStatuses: readonly number[];
    readonly httpFailures: number;
    readonly tcpFailures: number;
    readonly timeouts: number;
  };
}

export interface ActiveCheckSpec {
  /** The probe of the endpoint's host; `probeAt` turns it into the probe of one resolved address. */
  readonly probe: ProbeSpec;
  readonly thresholds: HealthThresholds;
  /** How many of the instance's targets are probed at once (`concurrency`, §7.2); at least 1. */
  readonly concurrency: number;
}

/** The instance's `auth`, which APISIX also sends with every probe (§7.2, quirk Q6). */
export interface ProbeAuth {
  readonly header?: Readonly<Record<string, string>> | undefined;
  readonly query?: Readonly<Record<string, string>> | undefined;
}

function withAuthQuery(path: string, query: ProbeAuth['query']): string {
  const entries = Object.entries(query ?? {});
  if (entries.length === 0) return path;
  const encoded = new URLSearchParams(entries).toString();
  return `${path}${path.includes('?') ? '&' : '?'}${encoded}`;
}

function headerLines(configured: readonly string[] | undefined, authHeaders: ProbeAuth['header']): string[] {
  const lines = [...(configured ?? [])];
  for (const [name, value] of Object.entries(authHeaders ?? {})) {
    const line = `${name}: ${value}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/**
 * Resolves one instance's `checks.active` against its endpoint into the probe and the state-machine
 * thresholds (ai-proxy-multi.md §1.9, §7.2, §7.3). The probe type defaults to the endpoint's scheme
 * (DECISIONS: an https endpoint gets an https probe; APISIX always defaults to http).
 *
 * @example
 *   resolveActiveCheck({ http_path: '/health' }, { scheme: 'https', host: 'llm.example.com', port: 443 }, {});
 *   // { probe: { type: 'https', host: 'llm.example.com', port: 443, path: '/health', … }, thresholds: { … } }
 */
export function resolveActiveCheck(
  active: ActiveHealthCheck,
  endpoint: ProbeEndpoint,
  auth: ProbeAuth,
): ActiveCheckSpec {
  const defaults = ACTIVE_CHECK_DEFAULTS;
  const endpointIsName = isIP(endpoint.host) === 0;
  return {
    probe: {
      type: active.type ?? endpoint.scheme,
      host: endpoint.host,
      port: active.port ?? endpoint.port,
      hostHeader: endpointIsName ? endpoint.host : (active.host ?? endpoint.host),
      timeoutMs: (active.timeout ?? defaults.timeoutSeconds) * 1000,
      method: active.http_method ?? defaults.httpMethod,
      path: withAuthQuery(active.http_path ?? defaults.httpPath, auth.query),
      body: active.http_req_body ?? defaults.httpRequestBody,
      verifyCertificate: active.https_verify_certificate ?? defaults.httpsVerifyCertificate,
      headerLines: headerLines(active.req_headers, auth.header),
    },
    thresholds: {
      healthy: {
        intervalMs: (active.healthy?.interval ?? defaults.healthy.intervalSeconds) * 1000,
        httpStatuses: active.healthy?.http_statuses ?? defaults.healthy.httpStatuses,
        successes: active.healthy?.successes ?? defaults.healthy.successes,
      },
      unhealthy: {
        intervalMs: (active.unhealthy?.interval ?? defaults.unhealthy.intervalSeconds) * 1000,
        httpStatuses: active.unhealthy?.http_statuses ?? defaults.unhealthy.httpStatuses,
        httpFailures: active.unhealthy?.http_failures ?? defaults.unhealthy.httpFailures,
        tcpFailures: active.unhealthy?.tcp_failures ?? defaults.unhealthy.tcpFailures,
        timeouts: active.unhealthy?.timeouts ?? defaults.unhealthy.timeouts,
      },
    },
    concurrency: Math.max(1, active.concurrency ?? defaults.concurrency),
  };
}

/**
 * The probe of one address the endpoint host resolved to (ai-proxy-multi.md §2.10, §7.2): it connects
 * to `address` and keeps the `Host` header (and so the TLS server name) of the endpoint's domain.
 *
 * @example probeAt(spec.probe, '10.0.0.7'); // { …spec.probe, host: '10.0.0.7' }, Host still 'llm.example.com'
 */
export function probeAt(probe: ProbeSpec, address: string): ProbeSpec {
  return probe.host === address ? probe : { ...probe, host: address };
}
