import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { keyAuthPlugin } from '../src/plugins/key-auth.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import type { RuntimePlugin } from '../src/plugins/runtime-plugin.js';
import { type EchoedRequest, type EchoServer, freePort, request, startEchoServer } from './support/harness.js';
import { type RunningProxy, startProxy } from './support/proxy-harness.js';

const NOT_FOUND = '{"error_msg":"404 Route Not Found"}\n';

describe('request pipeline with the plain upstream proxy (admin-api.md §6.5–§6.7)', { timeout: 60_000 }, () => {
  let gateway: RunningProxy;
  let echo: EchoServer;
  let second: EchoServer;

  before(async () => {
    echo = await startEchoServer('first');
    second = await startEchoServer('second');
    gateway = await startProxy();
  });
  after(async () => {
    await gateway.close();
    await echo.close();
    await second.close();
  });

  const lastEchoed = (server: EchoServer = echo): EchoedRequest => {
    const last = server.requests.at(-1);
    assert.ok(last, 'the upstream received a request');
    return last;
  };
  const upstream = (server: EchoServer = echo, extra: Record<string, unknown> = {}) => ({
    nodes: { [`127.0.0.1:${server.port}`]: 1 },
    ...extra,
  });

  test('no route: 404 with the exact APISIX body', async () => {
    const answer = await request(`${gateway.url}/nothing/here`);
    assert.equal(answer.status, 404);
    assert.equal(answer.text, NOT_FOUND);
    assert.equal(answer.headers['content-type'], 'application/json');
  });

  test('proxies method, path, query, headers and body; relays status, headers and body', async () => {
    await gateway.applied(await gateway.store.put('/apisix/routes/echo', { uri: '/echo/*', upstream: upstream() }));
    const answer = await request(`${gateway.url}/echo/x?a=1&b=2`, {
      method: 'POST',
      headers: { host: 'client.example', 'x-custom': 'yes', 'content-type': 'text/plain' },
      body: 'hello upstream',
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream'], 'first');
    assert.equal(answer.headers['retry-after'], '7', 'upstream headers are relayed');
    const seen = lastEchoed();
    assert.deepEqual(answer.json(), JSON.parse(JSON.stringify(seen)));
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/echo/x?a=1&b=2');
    assert.equal(seen.body, 'hello upstream');
    assert.equal(seen.headers['x-custom'], 'yes');
    assert.equal(seen.headers.host, 'client.example', 'pass_host defaults to pass');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-host'], 'client.example');
  });

  test('the upstream status is relayed as is', async () => {
    const answer = await request(`${gateway.url}/echo/rate`, { headers: { 'x-echo-status': '429' } });
    assert.equal(answer.status, 429);
  });

  test('hop-by-hop headers (and those named in Connection) are not forwarded', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${gateway.url}/echo/hop`,
        {
          headers: {
            connection: 'keep-alive, x-secret-hop',
            'x-secret-hop': '1',
            'keep-alive': 'timeout=5',
            'x-kept': '1',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    const seen = lastEchoed();
    assert.equal(seen.headers['x-secret-hop'], undefined);
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.equal(seen.headers['x-kept'], '1');
  });

  test('a large body is streamed through intact', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh');
    const answer = await request(`${gateway.url}/echo/large`, { method: 'PUT', body });
    assert.equal(answer.status, 200);
    assert.equal(lastEchoed().body.length, body.length);
  });

  test('a route without upstream and without an answering plugin: 503', async () => {
    await gateway.applied(await gateway.store.put('/apisix/routes/no-upstream', { uri: '/no-upstream', plugins: {} }));
    const answer = await request(`${gateway.url}/no-upstream`);
    assert.equal(answer.status, 503);
    assert.equal(answer.text, '{"error_msg":"missing upstream configuration in Route or Service"}\n');
  });

  test('an unreachable node: 502 JSON', async () => {
    const closedPort = await freePort();
    await gateway.applied(
      await gateway.store.put('/apisix/routes/dead', {
        uri: '/dead',
        upstream: { nodes: { [`127.0.0.1:${closedPort}`]: 1 } },
      }),
    );
    const answer = await request(`${gateway.url}/dead`);
    assert.equal(answer.status, 502);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.ok(answer.json().error_msg);
  });

  test('upstream_id references an upstream; a missing one answers 502', async () => {
    await gateway.store.put('/apisix/upstreams/u1', upstream(second));
    await gateway.store.put('/apisix/routes/by-id', { uri: '/by-id', upstream_id: 'u1' });
    await gateway.applied(
      await gateway.store.put('/apisix/routes/by-missing-id', { uri: '/by-missing-id', upstream_id: 'nope' }),
    );
    assert.equal((await request(`${gateway.url}/by-id`)).headers['x-upstream'], 'second');
    const missing = await request(`${gateway.url}/by-missing-id`);
    assert.equal(missing.status, 502);
    assert.equal(missing.text, '{"error_msg":"failed to find upstream by id: nope"}\n');
  });

  test('roundrobin by weight: 4:1 gives 8/2 over 10 requests', async () => {
    const nodes = { [`127.0.0.1:${echo.port}`]: 4, [`127.0.0.1:${second.port}`]: 1 };
    await gateway.applied(
      await gateway.store.put('/apisix/routes/weighted', { uri: '/weighted', upstream: { nodes } }),
    );
    const served: string[] = [];
    for (let index = 0; index < 10; index++)
      served.push(String((await request(`${gateway.url}/weighted`)).headers['x-upstream']));
    assert.equal(served.filter((name) => name === 'first').length, 8);
    assert.equal(served.filter((name) => name === 'second').length, 2);
  });

  test('pass_host node and rewrite', async () => {
    await gateway.store.put('/apisix/routes/host-node', {
      uri: '/host-node',
      upstream: upstream(echo, { pass_host: 'node' }),
    });
    await gateway.applied(
      await gateway.store.put('/apisix/routes/host-rewrite', {
        uri: '/host-rewrite',
        upstream: upstream(echo, { pass_host: 'rewrite', upstream_host: 'rewritten.example' }),
      }),
    );
    await request(`${gateway.url}/host-node`, { headers: { host: 'client.example' } });
    assert.equal(lastEchoed().headers.host, `127.0.0.1:${echo.port}`);
    await request(`${gateway.url}/host-rewrite`, { headers: { host: 'client.example' } });
    assert.equal(lastEchoed().headers.host, 'rewritten.example');
  });

  test('post_arg.model routing reads the body once and still forwards it whole', async () => {
    await gateway.store.put('/apisix/routes/model-a', {
      uri: '/v1/chat',
      vars: [['post_arg.model', '==', 'model-a']],
      upstream: upstream(echo),
    });
    await gateway.applied(
      await gateway.store.put('/apisix/routes/model-b', {
        uri: '/v1/chat',
        vars: [['post_arg.model', '==', 'model-b']],
        upstream: upstream(second),
      }),
    );
    const body = JSON.stringify({ model: 'model-b', messages: [{ role: 'user', content: 'hi' }] });
    const answer = await request(`${gateway.url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(answer.headers['x-upstream'], 'second');
    assert.equal(lastEchoed(second).body, body);
    const none = await request(`${gateway.url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"other"}',
    });
    assert.equal(none.status, 404);
  });

  test('_meta.disable skips a plugin; _meta.error_response replaces an error body', async () => {
    await gateway.store.put('/apisix/routes/disabled-auth', {
      uri: '/disabled-auth',
      plugins: { 'key-auth': { _meta: { disable: true } } },
      upstream: upstream(),
    });
    await gateway.applied(
      await gateway.store.put('/apisix/routes/custom-error', {
        uri: '/custom-error',
        plugins: { 'key-auth': { _meta: { error_response: { message: 'go away' } } } },
        upstream: upstream(),
      }),
    );
    assert.equal((await request(`${gateway.url}/disabled-auth`)).status, 200);
    const refused = await request(`${gateway.url}/custom-error`);
    assert.equal(refused.status, 401);
    assert.equal(refused.text, '{"message":"go away"}\n');
  });

  test('a route whose service is missing answers 404', async () => {
    await gateway.applied(await gateway.store.put('/apisix/routes/orphan', { uri: '/orphan', service_id: 'missing' }));
    const answer = await request(`${gateway.url}/orphan`);
    assert.equal(answer.status, 404);
    assert.equal(answer.text, NOT_FOUND);
  });

  test('one access-log line per request with route, method, path, status, latency', async () => {
    await request(`${gateway.url}/echo/logged?q=1`);
    const line = gateway.log.lines.findLast((entry) => entry.msg === 'access' && entry.path === '/echo/logged');
    assert.ok(line, 'an access line for the request');
    assert.equal(line.route_id, 'echo');
    assert.equal(line.method, 'GET');
    assert.equal(line.status, 200);
    assert.equal(typeof line.latency_ms, 'number');
    assert.equal(line.upstream_addr, `127.0.0.1:${echo.port}`);
  });
});

describe('a plugin that throws', { timeout: 30_000 }, () => {
  test('answers 500 JSON, logs a stable code, and the server keeps serving', async () => {
    const throwing: RuntimePlugin = {
      name: 'key-auth',
      prepare: (conf, scope) => keyAuthPlugin.prepare(conf as never, scope),
      rewrite(ctx) {
        if (ctx.req.headers['x-boom'] !== undefined) throw new Error('boom');
        return undefined;
      },
    };
    const echo = await startEchoServer();
    const gateway = await startProxy({
      plugins: createRuntimePluginRegistry({ random: Math.random, now: () => 0 }, [throwing]),
    });
    try {
      await gateway.applied(
        await gateway.store.put('/apisix/routes/1', {
          uri: '/x',
          plugins: { 'key-auth': {} },
          upstream: { nodes: { [`127.0.0.1:${echo.port}`]: 1 } },
        }),
      );
      const failed = await request(`${gateway.url}/x`, { headers: { 'x-boom': '1' } });
      assert.equal(failed.status, 500);
      assert.equal(failed.text, '{"error_msg":"internal server error"}\n');
      const logged = gateway.log.lines.find((line) => line.code === 'SB_ERR_PLUGIN_FAILED');
      assert.equal(logged?.plugin, 'key-auth');
      assert.equal((await request(`${gateway.url}/x`)).status, 200);
    } finally {
      await gateway.close();
      await echo.close();
    }
  });
});
