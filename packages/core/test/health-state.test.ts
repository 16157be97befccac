import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIVE_CHECK_DEFAULTS, resolveActiveCheck } from '../src/health/active-check-spec.js';
import { createPassiveHealthTracker, PASSIVE_HEALTH_DEFAULTS } from '../src/health/passive-health.js';
import { parseRetryAfterMs } from '../src/health/retry-after.js';
import { classifyProbeResult, createTargetHealth, type ProbeOutcome } from '../src/health/target-health.js';

const httpEndpoint = { scheme: 'http', host: '127.0.0.1', port: 8080 } as const;

describe('resolveActiveCheck (ai-proxy-multi.md §1.9, §7.2)', () => {
  it('fills every field with its default; intervals are 1 s without healthy/unhealthy (DECISIONS, bug B2)', () => {
    const { probe, thresholds } = resolveActiveCheck({}, httpEndpoint, {});
    assert.deepEqual(probe, {
      type: 'http',
      host: '127.0.0.1',
      port: 8080,
      hostHeader: '127.0.0.1',
      timeoutMs: 1000,
      method: 'GET',
      path: '/',
      body: '',
      verifyCertificate: true,
      headerLines: [],
    });
    assert.deepEqual(thresholds, {
      healthy: { intervalMs: 1000, httpStatuses: [200, 302], successes: 2 },
      unhealthy: {
        intervalMs: 1000,
        httpStatuses: [...ACTIVE_CHECK_DEFAULTS.unhealthy.httpStatuses],
        httpFailures: 5,
        tcpFailures: 2,
        timeouts: 3,
      },
    });
  });

  it('defaults the probe type to the endpoint scheme (DECISIONS); an explicit type wins', () => {
    const https = { scheme: 'https', host: 'llm.example.com', port: 443 } as const;
    assert.equal(resolveActiveCheck({}, https, {}).probe.type, 'https');
    assert.equal(resolveActiveCheck({ type: 'tcp' }, https, {}).probe.type, 'tcp');
  });

  it('uses the endpoint name as Host, else checks.active.host; port override; auth query and headers', () => {
    const named = resolveActiveCheck(
      { host: 'ignored.example', port: 9000 },
      { scheme: 'http', host: 'llm.local', port: 80 },
      {},
    );
    assert.equal(named.probe.hostHeader, 'llm.local');
    assert.equal(named.probe.port, 9000);

    const { probe } = resolveActiveCheck(
      {
        host: 'foo.com',
        http_method: 'POST',
        http_path: '/status?deep=1',
        http_req_body: '{"ping":true}',
        req_headers: ['Authorization: Bearer token', 'X-Probe: 1'],
      },
      httpEndpoint,
      { header: { Authorization: 'Bearer token', 'X-Key': 'k' }, query: { apikey: 'token_in_query' } },
    );
    assert.equal(probe.hostHeader, 'foo.com');
    assert.equal(probe.path, '/status?deep=1&apikey=token_in_query', 'auth.query appended with & after a ?');
    assert.deepEqual(probe.headerLines, ['Authorization: Bearer token', 'X-Probe: 1', 'X-Key: k']);
    assert.equal(probe.method, 'POST');
    assert.equal(probe.body, '{"ping":true}');
  });
});

describe('probe outcomes (§7.3)', () => {
  const { thresholds } = resolveActiveCheck({}, httpEndpoint, {});
  const table: Array<[Parameters<typeof classifyProbeResult>[0], ProbeOutcome]> = [
    [{ kind: 'status', status: 200 }, 'success'],
    [{ kind: 'status', status: 302 }, 'success'],
    [{ kind: 'status', status: 503 }, 'http-failure'],
    [{ kind: 'status', status: 429 }, 'http-failure'],
    [{ kind: 'status', status: 401 }, 'ignored'],
    [{ kind: 'bad-status-line' }, 'http-failure'],
    [{ kind: 'connected' }, 'success'],
    [{ kind: 'tcp-failure', reason: 'ECONNREFUSED' }, 'tcp-failure'],
    [{ kind: 'timeout' }, 'timeout'],
  ];
  for (const [result, outcome] of table) {
    it(`${JSON.stringify(result)} → ${outcome}`, () => assert.equal(classifyProbeResult(result, thresholds), outcome));
  }
});

describe('createTargetHealth: the state machine of §7.3', () => {
  const { thresholds } = resolveActiveCheck(
    { healthy: { successes: 2 }, unhealthy: { http_failures: 3, tcp_failures: 2, timeouts: 2 } },
    httpEndpoint,
    {},
  );

  it('starts healthy and turns unhealthy when one failure counter reaches its limit', () => {
    const target = createTargetHealth(thresholds);
    assert.equal(target.healthy, true);
    assert.equal(target.record('http-failure'), false);
    assert.equal(target.record('http-failure'), false);
    assert.equal(target.record('http-failure'), true);
    assert.equal(target.healthy, false);
  });

  it('counts each failure kind on its own (two different failures do not add up)', () => {
    const target = createTargetHealth(thresholds);
    target.record('tcp-failure');
    target.record('timeout');
    assert.equal(target.healthy, true);
    target.record('timeout');
    assert.equal(target.healthy, false);
  });

  it('a success clears the failure counters; a failure clears the success counter', () => {
    const target = createTargetHealth(thresholds);
    target.record('tcp-failure');
    target.record('success');
    target.record('tcp-failure');
    assert.equal(target.healthy, true, 'the success in between reset the count');
    target.record('tcp-failure');
    assert.equal(target.healthy, false);
    target.record('success');
    target.record('timeout');
    target.record('success');
    assert.equal(target.healthy, false, 'the failure in between reset the successes');
    assert.equal(target.record('success'), true);
    assert.equal(target.healthy, true);
  });

  it('ignored statuses change nothing', () => {
    const target = createTargetHealth(thresholds);
    target.record('tcp-failure');
    target.record('ignored');
    target.record('tcp-failure');
    assert.equal(target.healthy, false);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const cases: Array<[Record<string, string>, number | undefined]> = [
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after-ms': '150' }, 150],
    [{ 'retry-after': '9', 'retry-after-ms': '150' }, 150],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }, 5000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ];
  for (const [headers, expected] of cases) {
    it(`${JSON.stringify(headers)} → ${expected}`, () => assert.equal(parseRetryAfterMs(headers, now), expected));
  }
});

describe('createPassiveHealthTracker (Beyond APISIX)', () => {
  it('takes an instance out after `failures` consecutive failures, for cooldown_ms', () => {
    let now = 0;
    const tracker = createPassiveHealthTracker({ now: () => now });
    const conf = { failures: 2, cooldown_ms: 1000 };
    assert.equal(tracker.record('r#a', conf, { kind: 'failure' }), false);
    assert.equal(tracker.record('r#a', conf, { kind: 'success' }), false);
    assert.equal(tracker.record('r#a', conf, { kind: 'failure' }), false, 'the success reset the count');
    assert.equal(tracker.record('r#a', conf, { kind: 'failure' }), true);
    assert.deepEqual(tracker.outKeys(now), ['r#a']);
    assert.equal(tracker.nextReturnAt(now), 1000);
    now = 1000;
    assert.deepEqual(tracker.outKeys(now), [], 'back after the cooldown');
  });

  it('a 429 with Retry-After takes it out for that long, capped; without the header it does nothing', () => {
    const now = 100;
    const tracker = createPassiveHealthTracker({ now: () => now });
    assert.equal(tracker.record('r#a', {}, { kind: 'rate-limited', retryAfterMs: undefined }), false);
    assert.equal(tracker.record('r#a', {}, { kind: 'rate-limited', retryAfterMs: 2000 }), true);
    assert.equal(tracker.nextReturnAt(now), 2100);
    assert.equal(
      tracker.record('r#b', { max_retry_after_ms: 500 }, { kind: 'rate-limited', retryAfterMs: 9_000 }),
      true,
    );
    assert.equal(tracker.nextReturnAt(now), 600);
    assert.equal(tracker.record('r#c', { retry_after: false }, { kind: 'rate-limited', retryAfterMs: 2000 }), false);
  });

  it('uses its defaults literal and forgets keys that are no longer configured', () => {
    const tracker = createPassiveHealthTracker({ now: () => 0 });
    for (let index = 1; index < PASSIVE_HEALTH_DEFAULTS.failures; index += 1) {
      assert.equal(tracker.record('r#a', {}, { kind: 'failure' }), false);
    }
    assert.equal(tracker.record('r#a', {}, { kind: 'failure' }), true);
    assert.equal(tracker.nextReturnAt(0), PASSIVE_HEALTH_DEFAULTS.cooldownMs);
    tracker.retain(new Set());
    assert.deepEqual(tracker.outKeys(0), []);
  });
});
