import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { startDataPlane } from '../src/index.js';
import {
  type CapturedLogger,
  captureLogger,
  createTempStore,
  freePort,
  request,
  type TempStore,
  testConfig,
  waitFor,
} from './support/harness.js';

/**
 * Active health checks through a whole data plane (ai-proxy-multi.md §2.6, §7): the node's one prober,
 * the snapshot it publishes, and the balancer leaving unhealthy instances out — in one process
 * (`workers: 0`) and with two cluster workers sharing the primary's prober.
 */

interface LlmServer {
  readonly name: string;
  port: number;
  /** What `GET /health` answers. */
  healthStatus: number;
  probes: number;
  stop(): Promise<void>;
  /** Listens again on the same port (the instance is back). */
  restart(): Promise<void>;
}

async function startLlm(name: string, port = 0): Promise<LlmServer> {
  let server: Server;
  const llm: LlmServer = {
    name,
    port,
    healthStatus: 200,
    probes: 0,
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
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
        res.end(JSON.stringify({ object: 'chat.completion', choices: [], usage: { total_tokens: 1 } }));
      });
    });
    server.listen(llm.port, '127.0.0.1');
    await once(server, 'listening');
    llm.port = (server.address() as AddressInfo).port;
  }
  await listen();
  return llm;
}

const CHAT = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });

function route(llms: readonly LlmServer[], checked: ReadonlySet<string>) {
  return {
    uri: '/chat',
    plugins: {
      'ai-proxy-multi': {
        instances: llms.map((llm) => ({
          name: llm.name,
          provider: 'openai-compatible',
          weight: 1,
          auth: {},
          override: { endpoint: `http://127.0.0.1:${llm.port}` },
          ...(checked.has(llm.name)
            ? {
                checks: {
                  active: {
                    http_path: '/health',
                    timeout: 0.5,
                    healthy: { interval: 1, successes: 1 },
                    unhealthy: { interval: 1, http_failures: 1, tcp_failures: 1 },
                  },
                },
              }
            : {}),
        })),
      },
    },
  };
}

interface Plane {
  readonly url: string;
  readonly log: CapturedLogger;
  readonly store: TempStore;
  /** Who answered `count` requests in a row (status + x-upstream). */
  answers(count: number): Promise<string[]>;
  close(): Promise<void>;
}

async function startPlane(workers: number): Promise<Plane> {
  const store = await createTempStore();
  const log = captureLogger();
  const statusPort = await freePort();
  const plane = await startDataPlane({
    config: testConfig(statusPort),
    source: store.store,
    prefix: '/apisix',
    logger: log.logger,
    workers,
  });
  await plane.ready;
  const url = `http://127.0.0.1:${plane.proxyAddresses[0]?.port}/chat`;
  return {
    url,
    log,
    store,
    async answers(count) {
      const seen: string[] = [];
      for (let index = 0; index < count; index += 1) {
        const answer = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: CHAT,
        });
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

const allFrom = (answers: readonly string[], name: string) => answers.every((answer) => answer === `200:${name}`);

describe('active health checks in a data plane (ai-proxy-multi.md §7)', { timeout: 60_000 }, () => {
  test('instance down → left out of picking; back up → traffic returns after its probe passes', async () => {
    const [a, b] = await Promise.all([startLlm('a'), startLlm('b')]);
    const plane = await startPlane(0);
    try {
      await plane.store.put('/apisix/routes/1', route([a, b], new Set(['a', 'b'])));
      await waitFor(async () => ((await plane.answers(4)).some((answer) => answer === '200:a') ? true : undefined), {
        what: 'a serving',
      });

      await a.stop();
      await waitFor(async () => (allFrom(await plane.answers(4), 'b') ? true : undefined), {
        what: 'every request on b while a is down',
        timeoutMs: 15_000,
      });
      assert.ok(
        plane.log.lines.some(
          (line) => line.msg === 'ai instance is unhealthy' && line.instance === '/apisix/routes/1#a',
        ),
      );

      await a.restart();
      await waitFor(async () => ((await plane.answers(4)).includes('200:a') ? true : undefined), {
        what: 'traffic back on a',
        timeoutMs: 15_000,
      });
    } finally {
      await plane.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('every instance unhealthy → health is ignored and both still serve (§2.6)', async () => {
    const [a, b] = await Promise.all([startLlm('a'), startLlm('b')]);
    a.healthStatus = 503;
    b.healthStatus = 503;
    const plane = await startPlane(0);
    try {
      await plane.store.put('/apisix/routes/1', route([a, b], new Set(['a', 'b'])));
      await waitFor(
        () =>
          plane.log.lines.filter((line) => line.msg === 'ai instance is unhealthy').length === 2 ? true : undefined,
        { what: 'both instances unhealthy', timeoutMs: 15_000 },
      );
      const answers = await plane.answers(6);
      assert.ok(answers.includes('200:a') && answers.includes('200:b'), answers.join(','));
    } finally {
      await plane.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('two workers share the primary prober: one state change per node, both workers avoid the instance', async () => {
    const [a, b] = await Promise.all([startLlm('a'), startLlm('b')]);
    a.healthStatus = 500;
    const plane = await startPlane(2);
    try {
      await plane.store.put('/apisix/routes/1', route([a, b], new Set(['a'])));
      await waitFor(
        () => (plane.log.lines.some((line) => line.msg === 'ai instance is unhealthy') ? true : undefined),
        {
          what: 'a unhealthy in the primary',
          timeoutMs: 15_000,
        },
      );
      // Fresh connections land on both workers; every one of them must avoid a.
      await waitFor(async () => (allFrom(await plane.answers(8), 'b') ? true : undefined), {
        what: 'both workers on b',
        timeoutMs: 10_000,
      });
      const transitions = plane.log.lines.filter((line) => line.msg === 'ai instance is unhealthy');
      assert.equal(transitions.length, 1, 'the node probes once: one prober, one state change');
      assert.ok(a.probes >= 1);
      assert.equal(b.probes, 0, 'an instance without checks is never probed');
    } finally {
      await plane.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
