import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { createDispatcherRegistry, type DispatcherOptions } from '../src/upstream/dispatchers.js';

const options: DispatcherOptions = {
  keepAliveTimeoutMs: 60000,
  timeoutMs: 5000,
  rejectUnauthorized: true,
};

async function get(dispatcher: Dispatcher, origin: string): Promise<string> {
  const response = await dispatcher.request({ origin, path: '/', method: 'GET' });
  return response.body.text();
}

describe('createDispatcherRegistry (ai-proxy-multi.md §6.5)', () => {
  let server: http.Server;
  let origin: string;
  /** Requests served per client socket: keep-alive shows as a socket serving more than one. */
  const requestsPerSocket = new Map<object, number>();
  before(async () => {
    server = http.createServer((req, res) => {
      requestsPerSocket.set(req.socket, (requestsPerSocket.get(req.socket) ?? 0) + 1);
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('returns one dispatcher per origin and options', async () => {
    const registry = createDispatcherRegistry();
    try {
      const first = registry.get(origin, options);
      assert.equal(registry.get(origin, { ...options }), first, 'same origin and options → same pool');
      assert.notEqual(registry.get(origin, { ...options, timeoutMs: 1000 }), first, 'other options → another pool');
      assert.notEqual(registry.get('http://127.0.0.2:1', options), first, 'other origin → another pool');
    } finally {
      await registry.close();
    }
  });

  it('keeps connections alive between requests', async () => {
    const registry = createDispatcherRegistry();
    try {
      requestsPerSocket.clear();
      const pool = registry.get(origin, options);
      for (let index = 0; index < 4; index += 1) assert.equal(await get(pool, origin), 'ok');
      // The pool does not cap concurrency, so a request may open a second socket while the first is
      // being released; what matters is that sockets are reused rather than one per request.
      assert.ok(requestsPerSocket.size < 4, `4 requests used ${requestsPerSocket.size} sockets`);
      assert.ok(Math.max(...requestsPerSocket.values()) >= 2, 'a socket served more than one request');
    } finally {
      await registry.close();
    }
  });

  it('closes every pool on close() and refuses new lookups', async () => {
    const registry = createDispatcherRegistry();
    const pool = registry.get(origin, options);
    assert.equal(await get(pool, origin), 'ok');
    await registry.close();
    await assert.rejects(get(pool, origin), { name: /^Client(Closed|Destroyed)Error$/ });
    assert.throws(() => registry.get(origin, options), /closed/);
  });
});
