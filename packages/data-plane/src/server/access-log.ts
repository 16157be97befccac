import { type Logger, pino } from 'pino';

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

/**
 * The access log: one JSON object per line and per request, apart from the operational log on stderr,
 * so it can be shipped as is. `nginx_config.http.access_log` names the file (appended to by every
 * worker; O_APPEND keeps lines whole), else stdout.
 *
 * @example const accessLog = createAccessLogger(config.nginx_config.http.access_log);
 */
export function createAccessLogger(file: string | undefined): Logger {
  const destination = pino.destination(file === undefined ? { dest: 1, sync: false } : { dest: file, mkdir: true, append: true, sync: false });
  return pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event' }, destination);
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
