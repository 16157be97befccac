import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type ConfigFile, createEmbeddedStore, type EmbeddedStore, loadConfig } from '@switchboard/core';
import { type Logger, pino } from 'pino';
import { type Dispatcher, request as undiciRequest } from 'undici';

/** What the echo upstream saw for one request. */
export interface EchoedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface EchoServer {
  readonly port: number;
  readonly requests: EchoedRequest[];
  close(): Promise<void>;
}

/**
 * A local upstream that answers every request with 200 and a JSON echo of it, plus response headers
 * a proxy must relay (`x-upstream`, `retry-after`) and one it must not (`keep-alive` via connection).
 */
export async function startEchoServer(name = 'echo'): Promise<EchoServer> {
  const requests: EchoedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const echoed = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(echoed);
      const status = Number(req.headers['x-echo-status'] ?? 200);
      res.writeHead(status, { 'content-type': 'application/json', 'x-upstream': name, 'retry-after': '7' });
      res.end(JSON.stringify(echoed));
    });
  });
  const port = await listen(server);
  return { port, requests, close: () => closeServer(server) };
}

export function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A free TCP port on 127.0.0.1 (for listeners whose config treats port 0 as "disabled"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export interface TempStore {
  readonly store: EmbeddedStore;
  /** Writes a JSON value; resolves the write's revision. */
  put(key: string, value: unknown): Promise<number>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The embedded store in a fresh temp dir: the ConfigSource the data plane tests run against. */
export async function createTempStore(): Promise<TempStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sb-data-plane-'));
  const store = await createEmbeddedStore({ dataDir });
  return {
    store,
    async put(key, value) {
      const result = await store.put(key, typeof value === 'string' ? value : JSON.stringify(value));
      return result.revision;
    },
    async remove(key) {
      await store.delete(key);
    },
    async close() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CapturedLogger {
  readonly logger: Logger;
  /** Every log line so far, parsed. */
  readonly lines: Record<string, unknown>[];
}

export function captureLogger(level: 'debug' | 'warn' = 'debug'): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** config.yaml defaults, as the CLI would pass them. */
export function defaultConfig(): ConfigFile {
  return loadConfig({}).config;
}

/** config.yaml defaults with the proxy on a random loopback port and the status server on `statusPort`. */
export function testConfig(statusPort: number): ConfigFile {
  const base = defaultConfig();
  return {
    ...base,
    apisix: {
      ...base.apisix,
      node_listen: [{ ip: '127.0.0.1', port: 0 }],
      status: { ip: '127.0.0.1', port: statusPort },
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  /** May include `host`, which fetch would not send. */
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** One request to a local server through undici (a fresh connection each time). */
export async function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  const response = await undiciRequest(url, {
    method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: options.headers ?? {},
    body: options.body ?? null,
    reset: true,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
}
