import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ActiveCheckSpec, type ProbeSpec, probeAt, resolveActiveCheck } from '../src/health/active-check-spec.js';
import { createActiveHealthChecker } from '../src/health/active-health-checker.js';
import type { ProbeResult } from '../src/health/target-health.js';
import { createManualTimers, type ManualTimers } from './support/manual-timers.js';

/**
 * Per-address probe targets (ai-proxy-multi.md §2.10, §7.1–§7.3): an instance whose host resolves to
 * several addresses has one target per address; it is healthy while one of them is.
 */

const FAIL_FAST = { unhealthy: { tcp_failures: 1 }, healthy: { successes: 1 } };

function namedSpec(fields: Parameters<typeof resolveActiveCheck>[0] = FAIL_FAST): ActiveCheckSpec {
  return resolveActiveCheck(fields, { scheme: 'https', host: 'llm.example.com', port: 8443 }, {});
}

/** A checker whose probes fail for the addresses in `down`; every probe it sent is in `probed`. */
function createChecker(manual: ManualTimers) {
  const down = new Set<string>();
  const probed: ProbeSpec[] = [];
  let changes = 0;
  const checker = createActiveHealthChecker({
    probe: async (spec): Promise<ProbeResult> => {
      probed.push(spec);
      return down.has(spec.host) ? { kind: 'tcp-failure', reason: 'ECONNREFUSED' } : { kind: 'status', status: 200 };
    },
    timers: manual.timers,
    onChange: () => {
      changes += 1;
    },
  });
  return { checker, down, probed, changes: () => changes };
}

describe('probeAt and concurrency (§7.2)', () => {
  it('connects to the address and keeps the domain as Host header and TLS server name', () => {
    const spec = namedSpec();
    const probe = probeAt(spec.probe, '10.0.0.7');
    assert.equal(probe.host, '10.0.0.7');
    assert.equal(probe.hostHeader, 'llm.example.com');
    assert.equal(probe.port, 8443);
    assert.equal(probe.type, 'https');
    assert.equal(probeAt(spec.probe, 'llm.example.com'), spec.probe, 'the endpoint host itself: same probe');
  });

  const concurrencyCases: Array<[string, number | undefined, number]> = [
    ['default', undefined, 10],
    ['configured', 3, 3],
    ['zero still probes one at a time', 0, 1],
  ];
  for (const [name, concurrency, expected] of concurrencyCases) {
    it(`concurrency: ${name}`, () => {
      const fields = concurrency === undefined ? {} : { concurrency };
      assert.equal(namedSpec(fields).concurrency, expected);
    });
  }
});

describe('createActiveHealthChecker with several addresses per instance (§2.6, §7.3)', () => {
  it('probes every address; healthy while one target is, unhealthy when all are', async () => {
    const manual = createManualTimers();
    const { checker, down, probed } = createChecker(manual);
    down.add('10.0.0.2');
    checker.sync(new Map([['r#a', { spec: namedSpec(), addresses: ['10.0.0.2', '10.0.0.1', '10.0.0.2'] }]]));
    assert.deepEqual(manual.pendingDelays(), [0, 0], 'duplicates collapse: two targets, both probed at once');
    await manual.fireAll();
    assert.deepEqual(probed.map((spec) => `${spec.host}:${spec.port} Host ${spec.hostHeader}`).sort(), [
      '10.0.0.1:8443 Host llm.example.com',
      '10.0.0.2:8443 Host llm.example.com',
    ]);
    assert.deepEqual(checker.targetsOf('r#a'), [
      { address: '10.0.0.1', healthy: true },
      { address: '10.0.0.2', healthy: false },
    ]);
    assert.equal(checker.isHealthy('r#a'), true, 'one healthy target keeps the instance healthy');
    assert.deepEqual(checker.unhealthyKeys(), []);

    down.add('10.0.0.1');
    await manual.fireAll();
    assert.equal(checker.isHealthy('r#a'), false, 'every target down: the instance is down');
    assert.deepEqual(checker.unhealthyKeys(), ['r#a']);

    down.clear();
    await manual.fireAll();
    assert.equal(checker.isHealthy('r#a'), true);
    checker.close();
    assert.deepEqual(manual.pendingDelays(), []);
  });

  it('a new DNS answer keeps the state of unchanged addresses, probes new ones at once, stops gone ones (§7.1)', async () => {
    const manual = createManualTimers();
    const { checker, down, changes } = createChecker(manual);
    down.add('10.0.0.1');
    checker.sync(new Map([['r#a', { spec: namedSpec(), addresses: ['10.0.0.1', '10.0.0.2'] }]]));
    await manual.fireAll();
    assert.deepEqual(
      checker.targetsOf('r#a')?.map((target) => target.healthy),
      [false, true],
    );

    const before = changes();
    checker.sync(new Map([['r#a', { spec: namedSpec(), addresses: ['10.0.0.2', '10.0.0.1'] }]]));
    assert.equal(changes(), before, 'the same answer in another order is no change');

    checker.sync(new Map([['r#a', { spec: namedSpec(), addresses: ['10.0.0.1', '10.0.0.3'] }]]));
    assert.equal(changes(), before + 1);
    assert.deepEqual(checker.targetsOf('r#a'), [
      { address: '10.0.0.1', healthy: false },
      { address: '10.0.0.3', healthy: true },
    ]);
    assert.ok(manual.pendingDelays().includes(0), 'the new address is probed right away');
    assert.equal(manual.pendingDelays().length, 2, "10.0.0.2's schedule stopped");

    // The checks themselves change: every target starts over, healthy (§7.1).
    checker.sync(
      new Map([['r#a', { spec: namedSpec({ ...FAIL_FAST, http_path: '/ready' }), addresses: ['10.0.0.1'] }]]),
    );
    assert.deepEqual(checker.targetsOf('r#a'), [{ address: '10.0.0.1', healthy: true }]);
    checker.close();
  });

  it('an instance without addresses is unhealthy; an unknown one is healthy (§2.6)', () => {
    const manual = createManualTimers();
    const { checker } = createChecker(manual);
    checker.sync(new Map([['r#a', { spec: namedSpec(), addresses: [] }]]));
    assert.equal(checker.isHealthy('r#a'), false);
    assert.deepEqual(checker.targetsOf('r#a'), []);
    assert.equal(checker.isHealthy('r#unknown'), true);
    assert.equal(checker.targetsOf('r#unknown'), undefined);
    checker.close();
  });

  it('never has more than `concurrency` probes of one instance in flight, and probes every target', async () => {
    const manual = createManualTimers();
    const release: Array<() => void> = [];
    const probedHosts: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const checker = createActiveHealthChecker({
      probe: (spec) =>
        new Promise<ProbeResult>((resolve) => {
          probedHosts.push(spec.host);
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          release.push(() => {
            inFlight -= 1;
            resolve({ kind: 'status', status: 200 });
          });
        }),
      timers: manual.timers,
      onChange: () => {},
    });
    const addresses = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
    checker.sync(new Map([['r#a', { spec: namedSpec({ concurrency: 2 }), addresses }]]));
    await manual.fireAll();
    assert.equal(probedHosts.length, 2, 'two probes run, three wait');
    while (probedHosts.length < addresses.length) {
      const next = release.shift();
      assert.ok(next, 'a probe is in flight');
      next();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual([...probedHosts].sort(), addresses);
    assert.equal(maxInFlight, 2);
    checker.close();
    for (const next of release) next();
  });
});
