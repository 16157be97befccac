import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { type ActiveCheckSpec, type ProbeSpec, resolveActiveCheck } from '../src/health/active-check-spec.js';
import { type CheckedInstance, createActiveHealthChecker } from '../src/health/active-health-checker.js';
import { probeTarget } from '../src/health/probe.js';
import type { ProbeResult } from '../src/health/target-health.js';
import { createManualTimers } from './support/manual-timers.js';

function specFor(port: number, fields: Parameters<typeof resolveActiveCheck>[0] = {}): ActiveCheckSpec {
  return resolveActiveCheck(fields, { scheme: 'http', host: '127.0.0.1', port }, {});
}

/** An instance on an IP endpoint: one target, its own address. */
const onIp = (spec: ActiveCheckSpec): CheckedInstance => ({ spec, addresses: [spec.probe.host] });

describe('createActiveHealthChecker (ai-proxy-multi.md §7.1, §7.3)', () => {
  it('probes at once, then every healthy/unhealthy interval; flips after the thresholds', async () => {
    const manual = createManualTimers();
    const answers: ProbeResult[] = [];
    let changes = 0;
    const checker = createActiveHealthChecker({
      probe: async () => answers.shift() ?? { kind: 'status', status: 200 },
      timers: manual.timers,
      onChange: () => {
        changes += 1;
      },
    });
    const spec = specFor(1, { healthy: { interval: 3, successes: 2 }, unhealthy: { interval: 1, tcp_failures: 2 } });
    checker.sync(new Map([['r#a', onIp(spec)]]));
    assert.deepEqual(manual.pendingDelays(), [0], 'the first probe runs right away');

    answers.push({ kind: 'tcp-failure', reason: 'ECONNREFUSED' }, { kind: 'tcp-failure', reason: 'ECONNREFUSED' });
    await manual.fireAll();
    assert.equal(checker.isHealthy('r#a'), true);
    assert.deepEqual(manual.pendingDelays(), [3000], 'healthy targets wait healthy.interval');
    await manual.fireAll();
    assert.equal(checker.isHealthy('r#a'), false);
    assert.deepEqual(checker.unhealthyKeys(), ['r#a']);
    assert.equal(changes, 2, 'the sync that added it, then the flip');
    assert.deepEqual(manual.pendingDelays(), [1000], 'unhealthy targets wait unhealthy.interval');

    await manual.fireAll();
    await manual.fireAll();
    assert.equal(checker.isHealthy('r#a'), true, 'two successes bring it back');
    assert.equal(changes, 3);
    checker.close();
    assert.deepEqual(manual.pendingDelays(), []);
  });

  it('keeps the state of unchanged checks across sync, restarts changed ones, stops removed ones', async () => {
    const manual = createManualTimers();
    let changes = 0;
    const checker = createActiveHealthChecker({
      probe: async () => ({ kind: 'tcp-failure', reason: 'ECONNREFUSED' }),
      timers: manual.timers,
      onChange: () => {
        changes += 1;
      },
    });
    const failFast = specFor(1, { unhealthy: { tcp_failures: 1 } });
    checker.sync(
      new Map([
        ['r#a', onIp(failFast)],
        ['r#b', onIp(failFast)],
      ]),
    );
    await manual.fireAll();
    assert.deepEqual(checker.unhealthyKeys().sort(), ['r#a', 'r#b']);

    // Same spec for a (a structurally equal copy) → state kept; b's spec changed → fresh, healthy.
    checker.sync(
      new Map([
        ['r#a', onIp(specFor(1, { unhealthy: { tcp_failures: 1 } }))],
        ['r#b', onIp(specFor(2))],
      ]),
    );
    assert.equal(checker.isHealthy('r#a'), false, 'unchanged instance kept its state');
    assert.equal(checker.isHealthy('r#b'), true, 'a changed check starts over');

    const before = changes;
    checker.sync(new Map());
    assert.equal(changes, before + 1, 'dropping an unhealthy target is a change');
    assert.deepEqual(checker.unhealthyKeys(), []);
    assert.deepEqual(manual.pendingDelays(), [], 'every timer stopped (route deleted)');
    assert.equal(checker.isHealthy('r#a'), true, 'unknown targets count as healthy');
  });

  it('a prober that throws counts as a failed probe and keeps the schedule going', async () => {
    const manual = createManualTimers();
    const checker = createActiveHealthChecker({
      probe: async () => {
        throw new Error('bad address');
      },
      timers: manual.timers,
      onChange: () => {},
    });
    checker.sync(new Map([['r#a', onIp(specFor(1, { unhealthy: { tcp_failures: 1 } }))]]));
    await manual.fireAll();
    assert.equal(checker.isHealthy('r#a'), false);
    assert.equal(manual.pendingDelays().length, 1);
    checker.close();
  });
});

// ---------------------------------------------------------------------------------------------------
// The prober on real loopback sockets.

async function listening(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function probeSpec(port: number, fields: Partial<ProbeSpec> = {}): ProbeSpec {
  return { ...resolveActiveCheck({}, { scheme: 'http', host: '127.0.0.1', port }, {}).probe, ...fields };
}

// A throwaway self-signed certificate for localhost/127.0.0.1, for the https probe only.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgW8PUCTPThk3dEe2f
D04X6Nec32FmE3hQX4HaGIisSxihRANCAAQ56bXdTl+DI96uVx6JfmNVTEYsGKhB
/DfFEkhaERjpl5VeqBdHLSX1yzM2WiX/kzPr3vH7OzV9fkgb5zXK33UW
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUadezIi0zZbXRHrnYaaCKEp3rsJcwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNDE2MzYxM1oYDzIxMjYxMDMx
MTYzNjEzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ56bXdTl+DI96uVx6JfmNVTEYsGKhB/DfFEkhaERjpl5VeqBdHLSX1
yzM2WiX/kzPr3vH7OzV9fkgb5zXK33UWo28wbTAdBgNVHQ4EFgQUdOiHRVAW6u1/
xzJuj8az3rjTEOUwHwYDVR0jBBgwFoAUdOiHRVAW6u1/xzJuj8az3rjTEOUwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSQAwRgIhAOoAKlZE0wCh4sqWv7ExqTtRINpAsWXV4lxT5F2IJhnEAiEA
+jn1ywOz/oKZmanRP1b2usUnkeUyNlzxHxesKnpoVhc=
-----END CERTIFICATE-----`;

describe('probeTarget on real sockets (§7.2)', () => {
  const received: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  let status = 200;
  const http = createHttpServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    res.writeHead(status);
    res.end('probe answer');
  });
  const https = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  // Accepts connections and never answers: the probe must time out.
  const silent = createTcpServer(() => {});
  after(() => {
    http.closeAllConnections();
    http.close();
    https.closeAllConnections();
    https.close();
    silent.close();
  });

  it('http: sends method, path, Host, headers and body; reads the status', async () => {
    const port = await listening(http);
    status = 503;
    const result = await probeTarget(
      probeSpec(port, {
        method: 'POST',
        path: '/health?apikey=token_in_query',
        hostHeader: 'foo.com',
        headerLines: ['Authorization: Bearer token'],
        body: '{"probe":true}',
      }),
    );
    assert.deepEqual(result, { kind: 'status', status: 503 });
    const [probe] = received;
    assert.equal(probe?.method, 'POST');
    assert.equal(probe?.url, '/health?apikey=token_in_query');
    assert.equal(probe?.headers.host, 'foo.com');
    assert.equal(probe?.headers.authorization, 'Bearer token');
    assert.equal(probe?.headers['content-length'], '14');
    assert.equal(probe?.body, '{"probe":true}');
  });

  it('tcp: connected when the port accepts; tcp-failure when refused', async () => {
    const port = await listening(silent);
    assert.deepEqual(await probeTarget(probeSpec(port, { type: 'tcp' })), { kind: 'connected' });
    const closed = createTcpServer();
    const closedPort = await listening(closed);
    closed.close();
    await once(closed, 'close');
    const refused = await probeTarget(probeSpec(closedPort, { type: 'tcp' }));
    assert.deepEqual(refused, { kind: 'tcp-failure', reason: 'ECONNREFUSED' });
  });

  it('times out when nothing answers within the probe timeout', async () => {
    const port = (silent.address() as AddressInfo).port;
    assert.deepEqual(await probeTarget(probeSpec(port, { timeoutMs: 100 })), { kind: 'timeout' });
  });

  it('https: verifies the certificate unless https_verify_certificate is false', async () => {
    const port = await listening(https);
    const spec = probeSpec(port, { type: 'https', hostHeader: 'localhost' });
    assert.deepEqual(await probeTarget({ ...spec, verifyCertificate: false }), { kind: 'status', status: 204 });
    const verified = await probeTarget(spec);
    assert.equal(verified.kind, 'tcp-failure', 'a self-signed certificate fails verification');
  });
});
