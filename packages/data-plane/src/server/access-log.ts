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

/** Where access lines go: one JSON object per request. */
export interface AccessLog {
  /** `line` is one JSON object without the trailing newline. */
  write(line: string): void;
  /** Writes what is buffered synchronously; called when the worker stops. */
  close(): void;
}

/**
 * The access log: one JSON object per line and per request, apart from the operational log on stderr,
 * so it can be shipped as is. `nginx_config.http.access_log` names the file (appended to by every
 * worker; O_APPEND keeps lines whole), else stdout.
 *
 * Lines go to a buffered destination (one write per line was a syscall on the thread pool). The buffer is flushed
 * when it holds ACCESS_LOG_BUFFER_BYTES, every ACCESS_LOG_FLUSH_MS and on close, so a quiet node's
 * lines still appear within a second.
 *
 * @example const accessLog = createAccessLog(config.nginx_config.http.access_log);
 */
export function createAccessLog(file: string | undefined): AccessLog {
  const destination = pino.destination({
    ...(file === undefined ? { dest: 1 } : { dest: file, mkdir: true, append: true }),
    sync: false,
    minLength: ACCESS_LOG_BUFFER_BYTES,
  });
  let opened = false;
  destination.once('ready', () => {
    opened = true;
  });
  // Ticks left to flush on: two after the last line, so a line buffered while a write was in flight
  // (flush() does nothing then) still goes out. An idle node's timer does nothing at all, and no tick
  // asks for an fsync (flush with a callback does): this flush is for timeliness, not durability.
  let flushTicks = 0;
  const timer = setInterval(() => {
    if (flushTicks === 0) return;
    flushTicks -= 1;
    // flush() throws while nothing is open yet; the next tick retries.
    try {
      destination.flush();
    } catch {}
  }, ACCESS_LOG_FLUSH_MS);
  timer.unref();
  return {
    write(line) {
      destination.write(`${line}\n`);
      flushTicks = 2;
    },
    close() {
      clearInterval(timer);
      const flush = (): void => {
        try {
          destination.flushSync();
        } catch {}
      };
      // The file opens asynchronously; a log closed before that flushes once it is open.
      if (opened) flush();
      else destination.once('ready', flush);
    },
  };
}

/** Access lines through the operational logger (tests, and embedders without a file). */
export function accessLogThrough(logger: Logger): AccessLog {
  return { write: (line) => logger.info(JSON.parse(line) as object, 'access'), close: () => {} };
}

// Must stay below SonicBoom's maxWrite (16 KiB).
const ACCESS_LOG_BUFFER_BYTES = 8 * 1024;
const ACCESS_LOG_FLUSH_MS = 1000;

/**
 * One line per request, after the response is over. The gateway's own fields and the plugins' fields
 * are serialised separately and spliced: spreading both into one object made V8 build a slow
 * dictionary object, and measured 18 µs a line instead of 3.
 */
export function writeAccessLog(accessLog: AccessLog, entry: AccessLogEntry): void {
  const own = JSON.stringify({
    time: new Date().toISOString(),
    route_id: entry.routeId,
    method: entry.method,
    path: entry.path,
    status: entry.status,
    latency_ms: Math.round(entry.latencyMs * 1000) / 1000,
    consumer: entry.consumer,
    aborted: entry.aborted ? true : undefined,
    // ai-proxy-multi.md §5.3: every request has a type; AI plugins set `ai_chat`/`ai_stream` in the fields.
    request_type: entry.fields?.request_type === undefined ? 'traditional_http' : undefined,
  });
  const fields = entry.fields === undefined ? '{}' : JSON.stringify(entry.fields);
  accessLog.write(fields === '{}' ? own : `${own.slice(0, -1)},${fields.slice(1)}`);
}
