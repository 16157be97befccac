import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AiProxyMultiSchema, compileChecker } from '@switchboard/core';
import { pino } from 'pino';
import type { AiProxyMultiConf } from '../src/plugins/ai-proxy-multi/conf.js';
import type { RequestContext } from '../src/plugins/runtime-plugin.js';
import { type RunningProxy, startProxy } from './support/proxy-harness.js';

/**
 * Shared by the ai-protocol*.test.ts files: a scriptable upstream that records what it received, the
 * real in-process data plane (embedded store, full pipeline, access lines captured) with AI routes put
 * into it, and a plain node:http client that keeps every header and chunk boundary visible.
 */

export interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type UpstreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  seen: UpstreamRequest,
) => void | Promise<void>;

export interface ScriptedUpstream {
  readonly origin: string;
  readonly received: UpstreamRequest[];
  respondWith(handler: UpstreamHandler): void;
  /** The parsed JSON body of the n-th request. */
  json(index?: number): Record<string, unknown>;
  reset(): void;
  close(): Promise<void>;
}

/** Answers JSON with status 200 (or the given one). */
export function jsonAnswer(body: unknown, status = 200, headers: Record<string, string> = {}): UpstreamHandler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** Answers an SSE stream made of `events` (already framed), written one by one. */
export function sseAnswer(events: readonly string[]): UpstreamHandler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const event of events) {
      if (!res.write(event)) await once(res, 'drain');
    }
    res.end();
  };
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const received: UpstreamRequest[] = [];
  let handler: UpstreamHandler = jsonAnswer({ ok: true });
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    received.push(seen);
    await handler(req, res, seen);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    respondWith(next) {
      handler = next;
    },
    json(index = 0) {
      return JSON.parse(received[index]?.body ?? 'null') as Record<string, unknown>;
    },
    reset() {
      received.length = 0;
      handler = jsonAnswer({ ok: true });
      server.closeAllConnections();
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface AiGateway {
  readonly url: string;
  readonly proxy: RunningProxy;
  /** Access lines so far (one per finished request). */
  accessLines(): Record<string, unknown>[];
  /** Every log line so far, operational and access. */
  allLogText(): string;
  /** Resolves with the access lines once there are `count` of them (poll with a deadline). */
  waitForAccessLines(count: number): Promise<Record<string, unknown>[]>;
  /** Forgets the lines so far; call between tests that each waited for their own lines. */
  clearLogs(): void;
  close(): Promise<void>;
}

/** The data plane with `routes` (id → route body) applied. */
export async function startAiGateway(routes: Readonly<Record<string, unknown>>): Promise<AiGateway> {
  const proxy = await startProxy();
  let revision = 0;
  for (const [id, route] of Object.entries(routes)) revision = await proxy.store.put(`/apisix/routes/${id}`, route);
  await proxy.applied(revision);
  const accessLines = () => proxy.log.lines.filter((line) => line.msg === 'access');
  return {
    url: proxy.url,
    proxy,
    accessLines,
    allLogText: () => proxy.log.lines.map((line) => JSON.stringify(line)).join('\n'),
    async waitForAccessLines(count) {
      const deadline = Date.now() + 5000;
      while (accessLines().length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} access lines, found ${accessLines().length}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return accessLines();
    },
    clearLogs() {
      proxy.log.lines.length = 0;
    },
    close: () => proxy.close(),
  };
}

/** An ai-proxy-multi route with one instance `only` (plus plugin-level fields). */
export function singleInstanceRoute(
  uri: string,
  instance: Record<string, unknown>,
  pluginFields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    uri,
    plugins: {
      'ai-proxy-multi': { ...pluginFields, instances: [{ name: 'only', weight: 1, auth: {}, ...instance }] },
    },
  };
}

export interface ClientAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body as the client read it, chunk by chunk. */
  readonly chunks: readonly string[];
  json(): Record<string, unknown>;
}

/** One request with exactly the given headers (content-type JSON unless set); resolves at the body's end. */
export function send(
  url: string,
  options: {
    readonly method?: string;
    readonly headers?: Record<string, string>;
    readonly body?: string | object;
  } = {},
): Promise<ClientAnswer> {
  return new Promise((resolve, reject) => {
    const body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body ?? {});
    const req = http.request(url, {
      method: options.method ?? 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...options.headers },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = chunks.join('');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          chunks,
          json: () => JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    req.end(body);
  });
}

/** The events of an SSE body as `{ type, data }`, data parsed when it is JSON. */
export function sseEvents(text: string): { type: string; data: unknown }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let type = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      const joined = data.join('\n');
      try {
        return { type, data: JSON.parse(joined) as unknown };
      } catch {
        return { type, data: joined };
      }
    });
}

/** Resolves when `predicate` holds, polling; rejects after the deadline (never a fixed sleep). */
export async function until(predicate: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** SSE `data:` line for a JSON payload. */
export const sseData = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
/** A named SSE event for a JSON payload carrying its own `type`. */
export const sseNamed = (type: string, payload: Record<string, unknown> = {}): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

/** The RequestContext the pipeline would hand to `access`, over a real node:http exchange. */
export function accessContext(req: IncomingMessage, res: ServerResponse): RequestContext {
  const url = new URL(req.url ?? '/', 'http://gateway.test');
  let body: Promise<Buffer> | undefined;
  return {
    req,
    res,
    vars: { get: () => undefined },
    path: url.pathname,
    routeKey: '/apisix/routes/1',
    routeId: '1',
    logger: pino({ level: 'silent' }),
    consumer: undefined,
    aiQuota: undefined,
    upstreamHeaders: new Map(),
    logFields: {},
    readBody() {
      body ??= (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      })();
      return body;
    },
  };
}

const checkMultiConf = compileChecker(AiProxyMultiSchema);

/** An ai-proxy-multi conf validated and defaulted by the real schema, as `prepare` receives it. */
export function defaultedMultiConf(value: Record<string, unknown>): AiProxyMultiConf {
  const checked = checkMultiConf(value);
  if (!checked.ok) throw new Error(checked.message);
  return checked.value as AiProxyMultiConf;
}
