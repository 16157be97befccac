import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it, test } from 'node:test';
import type { Pool } from 'undici';
import type { HealthSnapshot } from '../src/health/health-board.js';
import type { HostLookup } from '../src/health/resolve-targets.js';
import { chooseTargetAddress } from '../src/health/target-dispatch.js';
import { createDispatcherRegistry, type DispatcherOptions } from '../src/upstream/dispatchers.js';
import { waitFor } from './support/harness.js';
import { PROBE_EVERY_SECOND, startAnsweringPlane, startHealthCheckedLlm } from './support/health-plane.js';
import { startNodeHealthHarness } from './support/node-health-harness.js';

/**
 * Health per resolved address (ai-proxy-multi.md §2.10, §7.1–§7.3): a checked instance's host resolves to
 * several addresses, each probed on its own; requests connect to a healthy one with the host name as
 * `Host`. The resolver is injected: `llm.test` maps to 127.0.0.1 and 127.0.0.2 (all of 127/8 is loopback
 * on Linux, so two servers listen on the same port).
 */

const NAME = 'llm.test';

/** A lookup the test rewrites: host → addresses; a missing host fails like NXDOMAIN. */
function createLookup(initial: Record<string, readonly string[]>) {
  const answers = new Map(Object.entries(initial));
  const lookup: HostLookup = async (host) => {
    const addresses = answers.get(host);
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  return { lookup, answers };
}

// ---------------------------------------------------------------------------------------------------
// Picking an address per request.

describe('chooseTargetAddress (§2.10)', () => {
  const targets = (healthy: readonly boolean[]) => ({
    host: NAME,
    targets: healthy.map((state, index) => ({ address: `10.0.0.${index + 1}`, healthy: state })),
  });
  const cases: Array<[string, Parameters<typeof chooseTargetAddress>[0], string, number, string | undefined]> = [
    ['no targets: connect by name', undefined, NAME, 0, undefined],
    ['one address: connect by name, as an unchecked instance', targets([true]), NAME, 0, undefined],
    ['targets of another host: connect by name', targets([true, true]), 'auth.example.com', 0, undefined],
    ['uniform over healthy addresses: low draw', targets([false, true, true]), NAME, 0, '10.0.0.2'],
    ['uniform over healthy addresses: high draw', targets([false, true, true]), NAME, 0.99, '10.0.0.3'],
    ['none healthy: all addresses', targets([false, false]), NAME, 0.99, '10.0.0.2'],
  ];
  for (const [name, given, host, draw, expected] of cases) {
    it(name, () =>
      assert.equal(
        chooseTargetAddress(given, host, () => draw),
        expected,
      ),
    );
  }
});

// ---------------------------------------------------------------------------------------------------
// The node's health service with a fake clock, a fake prober and the injected resolver.

const FAST_CHECKS = { active: { unhealthy: { tcp_failures: 1 }, healthy: { successes: 1 } } };

/** An openai-compatible instance without auth, on `http://<host>:<port>/v1/chat/completions`. */
function chatInstance(name: string, host: string, port: number, fields: Record<string, unknown> = {}) {
  return {
    name,
    provider: 'openai-compatible',
    weight: 1,
    auth: {},
    override: { endpoint: `http://${host}:${port}/v1/chat/completions` },
    ...fields,
  };
}

const chatRoute = (instances: ReadonlyArray<Record<string, unknown>>) => ({
  uri: '/chat',
  plugins: { 'ai-proxy-multi': { instances } },
});

/** `multi` on `llm.test:<port>` with checks; `other` unchecked. */
const namedRoute = (port: number) =>
  chatRoute([chatInstance('multi', NAME, port, { checks: FAST_CHECKS }), chatInstance('other', '127.0.0.1', 9)]);

/** A node's health service resolving through `lookup`, whose probes to an address in `down` fail. */
const startNodeHealth = (lookup: HostLookup) =>
  startNodeHealthHarness({ downKeyOf: (spec) => spec.host, lookup, resolveIntervalMs: 30_000 });

const KEY = '/apisix/routes/1#multi';
const targetsIn = (snapshot: HealthSnapshot) =>
  snapshot.targets?.[KEY]?.targets.map(({ address, healthy }) => `${address}:${healthy ? 'up' : 'down'}`);

describe('createNodeHealth: one target per resolved address (§2.10, §7.1)', () => {
  it('probes every address with the name as Host; healthy while one address is, unhealthy when none is', async () => {
    const { lookup } = createLookup({ [NAME]: ['127.0.0.2', '127.0.0.1'] });
    const node = await startNodeHealth(lookup);
    try {
      node.down.add('127.0.0.2');
      await node.put('/apisix/routes/1', namedRoute(8000));
      await waitFor(() => (targetsIn(node.health.snapshot()) !== undefined ? true : undefined), {
        what: 'the name resolved',
      });
      await node.time.advance(0);
      assert.deepEqual(node.probed.map((spec) => `${spec.host}:${spec.port} Host ${spec.hostHeader}`).sort(), [
        `127.0.0.1:8000 Host ${NAME}`,
        `127.0.0.2:8000 Host ${NAME}`,
      ]);
      const snapshot = node.health.snapshot();
      assert.deepEqual(targetsIn(snapshot), ['127.0.0.1:up', '127.0.0.2:down']);
      assert.equal(snapshot.targets?.[KEY]?.host, NAME);
      assert.deepEqual(snapshot.unhealthy, [], 'one healthy address keeps the instance in');
      assert.ok(
        node.log.lines.some((line) => line.msg === 'ai instance address is unhealthy' && line.address === '127.0.0.2'),
      );

      node.down.add('127.0.0.1');
      await node.time.advance(1000);
      assert.deepEqual(node.health.snapshot().unhealthy, [KEY], 'every address down: the instance is out');
    } finally {
      await node.close();
    }
  });

  it('a new DNS answer: the new address is probed, the unchanged one keeps its state, the gone one leaves', async () => {
    const { lookup, answers } = createLookup({ [NAME]: ['127.0.0.1', '127.0.0.2'] });
    const node = await startNodeHealth(lookup);
    try {
      node.down.add('127.0.0.2');
      await node.put('/apisix/routes/1', namedRoute(8000));
      await waitFor(() => (targetsIn(node.health.snapshot()) !== undefined ? true : undefined), {
        what: 'targets published',
      });
      await node.time.advance(0);
      assert.deepEqual(targetsIn(node.health.snapshot()), ['127.0.0.1:up', '127.0.0.2:down']);

      // 127.0.0.1 goes away, 127.0.0.3 arrives; 127.0.0.2 stays, still down.
      answers.set(NAME, ['127.0.0.3', '127.0.0.2']);
      await node.time.advance(30_000);
      await waitFor(() => (targetsIn(node.health.snapshot())?.includes('127.0.0.3:up') ? true : undefined), {
        what: 'the new answer applied',
      });
      assert.deepEqual(targetsIn(node.health.snapshot()), ['127.0.0.2:down', '127.0.0.3:up']);
      node.probed.length = 0;
      await node.time.advance(0);
      assert.ok(
        node.probed.some((spec) => spec.host === '127.0.0.3'),
        'the new address is probed right away',
      );
      await node.time.advance(1000);
      assert.ok(!node.probed.some((spec) => spec.host === '127.0.0.1'), 'the gone address is not probed any more');

      // A failing lookup keeps the last answer.
      answers.delete(NAME);
      await node.time.advance(30_000);
      await waitFor(
        () => (node.log.lines.some((line) => line.msg?.toString().startsWith('failed to resolve')) ? true : undefined),
        { what: 'the lookup failure logged' },
      );
      assert.deepEqual(targetsIn(node.health.snapshot()), ['127.0.0.2:down', '127.0.0.3:up']);
    } finally {
      await node.close();
    }
  });

  it('a host that never resolves is probed by name, as without resolution', async () => {
    const { lookup } = createLookup({});
    const node = await startNodeHealth(lookup);
    try {
      await node.put('/apisix/routes/1', namedRoute(8000));
      await waitFor(
        () => (node.log.lines.some((line) => line.msg?.toString().startsWith('failed to resolve')) ? true : undefined),
        { what: 'the lookup failure logged' },
      );
      await node.time.advance(0);
      assert.equal(node.probed[0]?.host, NAME);
      assert.equal(node.health.snapshot().targets?.[KEY], undefined, 'one target: requests connect by name');
    } finally {
      await node.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Through a whole data plane, on real sockets.

/** An upstream on `address:port` whose chat answers say `<name>@<address>`. */
const startLlmAt = (name: string, address: string, port: number) =>
  startHealthCheckedLlm(name, { address, port, answersAs: `${name}@${address}` });

/** `multi` (priority 1) on `llm.test:<port>` with checks; `backup` (priority 0) for when multi is out. */
const planeRoute = (port: number, backupPort: number) =>
  chatRoute([
    chatInstance('multi', NAME, port, { priority: 1, checks: PROBE_EVERY_SECOND }),
    chatInstance('backup', '127.0.0.1', backupPort, { priority: 0 }),
  ]);

const allAre = (answers: readonly string[], expected: string) => answers.every((answer) => answer === expected);

describe('a data plane calls one healthy address of a multi-address host (§2.10)', { timeout: 90_000 }, () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    await Promise.all(stops.map((stop) => stop().catch(() => {})));
  });

  test('one address down → every request to the other with Host = name; both down → the next instance', async () => {
    const first = await startLlmAt('multi', '127.0.0.1', 0);
    const second = await startLlmAt('multi', '127.0.0.2', first.port);
    const backup = await startLlmAt('backup', '127.0.0.1', 0);
    const { lookup } = createLookup({ [NAME]: ['127.0.0.1', '127.0.0.2'] });
    const plane = await startAnsweringPlane({ workers: 0, lookupHost: lookup });
    stops.push(() => plane.close(), backup.stop);
    await plane.store.put('/apisix/routes/1', planeRoute(first.port, backup.port));

    await waitFor(
      async () => {
        const answers = await plane.answers(6);
        return answers.includes('200:multi@127.0.0.1') && answers.includes('200:multi@127.0.0.2') ? true : undefined;
      },
      { what: 'traffic on both addresses', timeoutMs: 15_000 },
    );
    const expectedHost = `${NAME}:${first.port}`;
    assert.ok(
      [...first.hosts, ...second.hosts].every((host) => host === expectedHost),
      'Host is the name and port',
    );

    await second.stop();
    await waitFor(async () => (allAre(await plane.answers(8), '200:multi@127.0.0.1') ? true : undefined), {
      what: 'every request on 127.0.0.1 while 127.0.0.2 is down',
      timeoutMs: 15_000,
    });
    assert.ok(
      plane.log.lines.some((line) => line.msg === 'ai instance address is unhealthy' && line.address === '127.0.0.2'),
    );
    assert.ok(!plane.log.lines.some((line) => line.msg === 'ai instance is unhealthy'), 'the instance stayed healthy');
    assert.equal(first.hosts.at(-1), expectedHost);

    await first.stop();
    await waitFor(async () => (allAre(await plane.answers(4), '200:backup@127.0.0.1') ? true : undefined), {
      what: 'every request on backup once both addresses are down',
      timeoutMs: 15_000,
    });
    assert.ok(
      plane.log.lines.some(
        (line) => line.msg === 'ai instance is unhealthy' && line.instance === '/apisix/routes/1#multi',
      ),
    );
  });

  test('workers read the per-address state the primary publishes over IPC', async () => {
    const first = await startLlmAt('multi', '127.0.0.1', 0);
    const second = await startLlmAt('multi', '127.0.0.2', first.port);
    const backup = await startLlmAt('backup', '127.0.0.1', 0);
    const { lookup } = createLookup({ [NAME]: ['127.0.0.1', '127.0.0.2'] });
    const plane = await startAnsweringPlane({ workers: 1, lookupHost: lookup });
    stops.push(() => plane.close(), first.stop, backup.stop);
    await second.stop();
    await plane.store.put('/apisix/routes/1', planeRoute(first.port, backup.port));
    // `llm.test` exists only in the primary's injected resolver: a worker that connected by name would fail.
    await waitFor(async () => (allAre(await plane.answers(8), '200:multi@127.0.0.1') ? true : undefined), {
      what: 'the worker on 127.0.0.1 only',
      timeoutMs: 15_000,
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The pinned pools.

// A throwaway self-signed certificate for localhost/127.0.0.1 (the same as core's probe test).
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

describe('createDispatcherRegistry with connectTo (§2.10)', () => {
  const options: DispatcherOptions = { keepAliveTimeoutMs: 60_000, timeoutMs: 5000, rejectUnauthorized: false };

  it('https: connects to the address with the name as Host and TLS server name', async () => {
    const seen: string[] = [];
    const server = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, (req, res) => {
      const socket = req.socket as typeof req.socket & { servername?: string };
      seen.push(`${socket.localAddress} ${req.headers.host} ${socket.servername}`);
      res.end('ok');
    });
    server.listen(0, '127.0.0.2');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const registry = createDispatcherRegistry();
    try {
      const pool = registry.get(`https://localhost:${port}`, { ...options, connectTo: '127.0.0.2' });
      const response = await pool.request({ path: '/', method: 'GET' });
      assert.equal(await response.body.text(), 'ok');
      assert.deepEqual(seen, [`127.0.0.2 localhost:${port} localhost`]);
      assert.equal(registry.get(`https://localhost:${port}`, { ...options, connectTo: '127.0.0.2' }), pool);
      assert.notEqual(registry.get(`https://localhost:${port}`, options), pool, 'by name: another pool');
    } finally {
      await registry.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('keeps a bounded number of address pools, closing the least recently used', async () => {
    const registry = createDispatcherRegistry();
    try {
      const pinned = (index: number) =>
        registry.get('http://llm.test', { ...options, connectTo: `10.0.${index >> 8}.${index & 255}` }) as Pool;
      const oldest = pinned(0);
      const kept = pinned(1);
      for (let index = 2; index < 256; index += 1) pinned(index);
      assert.equal(pinned(1), kept, 'used again: now the most recent');
      pinned(256);
      assert.equal(oldest.closed, true, 'the least recently used pool was closed');
      assert.equal(kept.closed, false);
    } finally {
      await registry.close();
    }
  });
});
