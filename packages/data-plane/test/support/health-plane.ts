import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostLookup } from '../../src/health/resolve-targets.js';
import { startDataPlane } from '../../src/index.js';
import {
  type CapturedLogger,
  captureLogger,
  createTempStore,
  freePort,
  request,
  type TempStore,
  testConfig,
} from './harness.js';

/**
 * Health checks through a whole data plane on real sockets (ai-proxy-multi.md §7): upstreams that answer
 * probes and chats, and a plane on a fresh embedded store that reports who answered.
 */

/** Active checks that probe `GET /health` every second and flip on the first failure or success. */
export const PROBE_EVERY_SECOND = {
  active: {
    http_path: '/health',
    timeout: 0.5,
    healthy: { interval: 1, successes: 1 },
    unhealthy: { interval: 1, http_failures: 1, tcp_failures: 1 },
  },
};

export interface HealthCheckedLlm {
  readonly name: string;
  readonly address: string;
  /** The port it listens on (the asked one, or the one it got for port 0). */
  port: number;
  /** What `GET /health` answers. */
  healthStatus: number;
  /** How many probes it answered. */
  probes: number;
  /** Host headers of the chat requests it answered. */
  readonly hosts: string[];
  stop(): Promise<void>;
  /** Listens again on the same address and port (the instance is back). */
  restart(): Promise<void>;
}

export interface HealthCheckedLlmOptions {
  /** Default 127.0.0.1 (all of 127/8 is loopback on Linux). */
  readonly address?: string;
  /** Default 0 (a free one). */
  readonly port?: number;
  /** The `x-upstream` header of its chat answers (default: the name). */
  readonly answersAs?: string;
}

/**
 * An upstream that answers `GET /health` with `healthStatus` and every other request with a chat
 * completion whose `x-upstream` header names it.
 * @example
 *   const a = await startHealthCheckedLlm('a');
 *   a.healthStatus = 503;
 */
export async function startHealthCheckedLlm(
  name: string,
  options: HealthCheckedLlmOptions = {},
): Promise<HealthCheckedLlm> {
  const address = options.address ?? '127.0.0.1';
  const answersAs = options.answersAs ?? name;
  let server: Server;
  const llm: HealthCheckedLlm = {
    name,
    address,
    port: options.port ?? 0,
    healthStatus: 200,
    probes: 0,
    hosts: [],
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
    async restart() {
      await listen();
    },
  };
  async function listen(): Promise<void> {
    server = createServer((req, res) => {
      req.resume();
      if (req.method === 'GET') {
        llm.probes += 1;
        res.writeHead(llm.healthStatus, { connection: 'close' });
        res.end();
        return;
      }
      req.on('end', () => {
        llm.hosts.push(req.headers.host ?? '');
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': answersAs });
        res.end(JSON.stringify({ object: 'chat.completion', choices: [], usage: { total_tokens: 1 } }));
      });
    });
    server.listen(llm.port, address);
    await once(server, 'listening');
    llm.port = (server.address() as AddressInfo).port;
  }
  await listen();
  return llm;
}

export interface AnsweringPlane {
  /** The chat route's URL: `/chat` on the plane's proxy port. */
  readonly url: string;
  readonly log: CapturedLogger;
  readonly store: TempStore;
  /** Who answered `count` chats to `/chat` in a row, as `status:x-upstream`. */
  answers(count: number): Promise<string[]>;
  close(): Promise<void>;
}

export interface AnsweringPlaneOptions {
  /** 0: one process; N: a primary (the node's prober) and N cluster workers. */
  readonly workers: number;
  /** The resolver for checked hosts (default: the system's). */
  readonly lookupHost?: HostLookup;
}

/**
 * A whole data plane on a fresh embedded store, ready once it resolves.
 * @example
 *   const plane = await startAnsweringPlane({ workers: 0 });
 *   await plane.store.put('/apisix/routes/1', route);
 *   assert.deepEqual(await plane.answers(2), ['200:a', '200:a']);
 */
export async function startAnsweringPlane(options: AnsweringPlaneOptions): Promise<AnsweringPlane> {
  const store = await createTempStore();
  const log = captureLogger();
  const plane = await startDataPlane({
    config: testConfig(await freePort()),
    source: store.store,
    prefix: '/apisix',
    logger: log.logger,
    workers: options.workers,
    ...(options.lookupHost === undefined ? {} : { lookupHost: options.lookupHost }),
  });
  await plane.ready;
  const url = `http://127.0.0.1:${plane.proxyAddresses[0]?.port}/chat`;
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });
  return {
    url,
    log,
    store,
    async answers(count) {
      const seen: string[] = [];
      for (let index = 0; index < count; index += 1) {
        const answer = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        seen.push(`${answer.status}:${answer.headers['x-upstream'] ?? '-'}`);
      }
      return seen;
    },
    async close() {
      await plane.close();
      await store.close();
    },
  };
}
