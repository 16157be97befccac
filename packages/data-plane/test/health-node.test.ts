import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSnapshotHealthBoard } from '../src/health/health-board.js';
import { instanceProbeEndpoint } from '../src/health/health-watch-list.js';
import { type NodeHealthHarness, startNodeHealthHarness } from './support/node-health-harness.js';

const checks = (fields: Record<string, unknown> = {}) => ({
  active: { unhealthy: { tcp_failures: 1 }, healthy: { successes: 1 }, ...fields },
});

function aiRoute(instances: Array<Record<string, unknown>>, fields: Record<string, unknown> = {}) {
  return { uri: '/chat', plugins: { 'ai-proxy-multi': { instances, ...fields } } };
}

function instance(name: string, port: number, fields: Record<string, unknown> = {}) {
  return {
    name,
    provider: 'openai-compatible',
    weight: 1,
    auth: { header: { Authorization: `Bearer ${name}` } },
    override: { endpoint: `http://127.0.0.1:${port}/v1/chat/completions` },
    ...fields,
  };
}

/** A node's health service whose probes to a port in `down` fail. */
const startHealth = () => startNodeHealthHarness({ downKeyOf: (spec) => spec.port });
type Harness = NodeHealthHarness<number>;

const unhealthyNow = (harness: Harness) => harness.health.snapshot().unhealthy;

describe('createNodeHealth: one health service per node follows the config (ai-proxy-multi.md §7.1)', () => {
  it('probes checked instances of multi-instance confs only; the probe carries the instance auth', async () => {
    const harness = await startHealth();
    try {
      await harness.put('/apisix/routes/1', aiRoute([instance('a', 1001, { checks: checks() }), instance('b', 1002)]));
      await harness.put('/apisix/routes/single', aiRoute([instance('solo', 1003, { checks: checks() })]));
      assert.equal(harness.time.pendingCount(), 1, 'one probe scheduled');
      await harness.time.advance(0);
      assert.deepEqual(
        harness.probed.map((spec) => spec.port),
        [1001],
        'only a: b has no checks, a single-instance conf never checks (§2.1)',
      );
      assert.deepEqual(harness.probed[0]?.headerLines, ['Authorization: Bearer a']);
      assert.equal(harness.probed[0]?.type, 'http', 'the probe type follows the endpoint scheme');
    } finally {
      await harness.close();
    }
  });

  it('marks a failing instance unhealthy, keeps its state across unrelated changes, resets it when its checks change', async () => {
    const harness = await startHealth();
    try {
      harness.down.add(1001);
      const route = aiRoute([instance('a', 1001, { checks: checks() }), instance('b', 1002, { checks: checks() })]);
      await harness.put('/apisix/routes/1', route);
      assert.equal(harness.time.pendingCount(), 2, 'two probes scheduled');
      await harness.time.advance(0);
      assert.deepEqual(unhealthyNow(harness), ['/apisix/routes/1#a']);
      const version = harness.health.snapshot().version;

      // Only b's weight changes: a's check is the same, so it keeps its unhealthy state (no reset).
      await harness.put(
        '/apisix/routes/1',
        aiRoute([instance('a', 1001, { checks: checks() }), instance('b', 1002, { weight: 5, checks: checks() })]),
      );
      assert.deepEqual(unhealthyNow(harness), ['/apisix/routes/1#a']);
      assert.equal(harness.health.snapshot().version, version, 'nothing changed for the workers');

      // a's checks change: a fresh checker, healthy until its probes say otherwise.
      await harness.put(
        '/apisix/routes/1',
        aiRoute([
          instance('a', 1001, { checks: checks({ http_path: '/health' }) }),
          instance('b', 1002, { checks: checks() }),
        ]),
      );
      assert.deepEqual(unhealthyNow(harness), [], 'a starts over, healthy');

      // Back up: after a probe the instance is healthy again.
      harness.down.delete(1001);
      await harness.time.advance(1000);
      assert.deepEqual(unhealthyNow(harness), []);
    } finally {
      await harness.close();
    }
  });

  it('stops every check when the route is deleted', async () => {
    const harness = await startHealth();
    try {
      harness.down.add(1001);
      await harness.put('/apisix/routes/1', aiRoute([instance('a', 1001, { checks: checks() }), instance('b', 1002)]));
      await harness.time.advance(0);
      assert.deepEqual(unhealthyNow(harness), ['/apisix/routes/1#a']);
      await harness.remove('/apisix/routes/1');
      assert.deepEqual(unhealthyNow(harness), [], 'nothing unhealthy once the route is gone');
      assert.equal(harness.time.pendingCount(), 0, 'no probe is scheduled any more');
    } finally {
      await harness.close();
    }
  });

  it('passive health: consecutive failures take an instance out for the cooldown; a 429 for its Retry-After', async () => {
    const harness = await startHealth();
    try {
      await harness.put(
        '/apisix/routes/1',
        aiRoute([instance('a', 1001), instance('b', 1002)], { passive_health: { failures: 2, cooldown_ms: 5000 } }),
      );
      const key = '/apisix/routes/1#a';
      harness.health.report(key, { kind: 'failure' });
      assert.deepEqual(unhealthyNow(harness), [], 'one failure is not enough');
      harness.health.report(key, { kind: 'success' });
      harness.health.report(key, { kind: 'failure' });
      assert.deepEqual(unhealthyNow(harness), [], 'the success in between reset the count');
      harness.health.report(key, { kind: 'failure' });
      assert.deepEqual(unhealthyNow(harness), [key]);
      await harness.time.advance(4999);
      assert.deepEqual(unhealthyNow(harness), [key], 'still out before the cooldown ends');
      await harness.time.advance(1);
      assert.deepEqual(unhealthyNow(harness), [], 'back when the cooldown ends, without any event');

      harness.health.report('/apisix/routes/1#b', { kind: 'rate-limited', retryAfterMs: 2000 });
      assert.deepEqual(unhealthyNow(harness), ['/apisix/routes/1#b']);
      await harness.time.advance(2000);
      assert.deepEqual(unhealthyNow(harness), []);

      harness.health.report('/apisix/routes/unknown#x', { kind: 'failure' });
      harness.health.report('/apisix/routes/unknown#x', { kind: 'failure' });
      harness.health.report('/apisix/routes/unknown#x', { kind: 'failure' });
      assert.deepEqual(unhealthyNow(harness), [], 'reports for confs without passive_health are ignored');
    } finally {
      await harness.close();
    }
  });
});

describe('createSnapshotHealthBoard: what a worker holds', () => {
  it('serves the last snapshot and sends a success only after a failure it reported', () => {
    const sent: string[] = [];
    const { board, apply } = createSnapshotHealthBoard((key, observation) => sent.push(`${key}:${observation.kind}`));
    assert.equal(board.isHealthy('r#a'), true);
    apply({ version: 1, unhealthy: ['r#a'] });
    assert.equal(board.isHealthy('r#a'), false);
    assert.equal(board.version(), 1);
    board.report('r#a', { kind: 'success' });
    board.report('r#a', { kind: 'failure' });
    board.report('r#a', { kind: 'success' });
    board.report('r#a', { kind: 'success' });
    board.report('r#a', { kind: 'rate-limited', retryAfterMs: 10 });
    assert.deepEqual(sent, ['r#a:failure', 'r#a:success', 'r#a:rate-limited']);
  });
});

describe('instanceProbeEndpoint (§7.2)', () => {
  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    [
      'endpoint with port',
      { override: { endpoint: 'http://127.0.0.1:8080/v1' } },
      { scheme: 'http', host: '127.0.0.1', port: 8080 },
    ],
    [
      'https endpoint, default port',
      { override: { endpoint: 'https://llm.example.com' } },
      { scheme: 'https', host: 'llm.example.com', port: 443 },
    ],
    ['IPv6 endpoint', { override: { endpoint: 'http://[::1]:9000' } }, { scheme: 'http', host: '::1', port: 9000 }],
    ['provider default host', { provider: 'openai' }, { scheme: 'https', host: 'api.openai.com', port: 443 }],
    ['openai-compatible without endpoint: nothing to probe', {}, undefined],
  ];
  for (const [name, fields, expected] of cases) {
    it(name, () => {
      const conf = { name: 'x', provider: 'openai-compatible', weight: 1, auth: {}, ...fields } as Parameters<
        typeof instanceProbeEndpoint
      >[0];
      assert.deepEqual(instanceProbeEndpoint(conf), expected);
    });
  }
});
