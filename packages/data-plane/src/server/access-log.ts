import type { Logger } from 'pino';

export interface AccessLogEntry {
  readonly routeId: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly consumer: string | undefined;
  /** `ctx.logFields`: what plugins recorded (ai-proxy-multi's model, instance, tokens …). */
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  /** The client went away before the response was complete. */
  readonly aborted: boolean;
}

/** One line per request, after the response is over. */
export function writeAccessLog(logger: Logger, entry: AccessLogEntry): void {
  logger.info(
    {
      ...entry.fields,
      route_id: entry.routeId,
      method: entry.method,
      path: entry.path,
      status: entry.status,
      latency_ms: Math.round(entry.latencyMs * 1000) / 1000,
      consumer: entry.consumer,
      ...(entry.aborted ? { aborted: true } : {}),
    },
    'access',
  );
}
