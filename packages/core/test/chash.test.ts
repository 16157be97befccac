import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsistentHashPicker } from '../src/balancer/chash-picker.js';
import { type HashKeyRule, resolveHashKey } from '../src/balancer/hash-key.js';
import { ALL_HEALTHY, createInstanceBalancer, type HealthLookup } from '../src/balancer/instance-balancer.js';
import type { PrioritizedInstance } from '../src/balancer/picker.js';

const sessions = Array.from({ length: 120 }, (_, index) => `session-${index}`);

function healthWithout(...unhealthy: string[]): HealthLookup {
  return { version: () => unhealthy.length, isHealthy: (name) => !unhealthy.includes(name) };
}

describe('createConsistentHashPicker (ai-proxy-multi.md §2.5)', () => {
  const gpus = [
    { name: 'gpu-a', weight: 3 },
    { name: 'gpu-b', weight: 6 },
    { name: 'gpu-c', weight: 10 },
  ];

  it('sends every request of one key to the same instance', () => {
    const picker = createConsistentHashPicker(gpus);
    for (const key of sessions.slice(0, 20)) {
      const first = picker.pick({ tried: new Set(), hashKey: key });
      for (let repeat = 0; repeat < 5; repeat += 1)
        assert.equal(picker.pick({ tried: new Set(), hashKey: key }), first);
    }
  });

  it('does not depend on the order the instances are configured in', () => {
    const forward = createConsistentHashPicker(gpus);
    const backward = createConsistentHashPicker([...gpus].reverse());
    for (const key of sessions) {
      assert.equal(forward.pick({ tried: new Set(), hashKey: key }), backward.pick({ tried: new Set(), hashKey: key }));
    }
  });

  it('spreads keys roughly by weight', () => {
    const picker = createConsistentHashPicker([
      { name: 'heavy', weight: 4 },
      { name: 'light', weight: 1 },
    ]);
    const counts = { heavy: 0, light: 0 };
    for (let index = 0; index < 2000; index += 1) {
      const name = picker.pick({ tried: new Set(), hashKey: `key-${index}` }) as 'heavy' | 'light';
      counts[name] += 1;
    }
    assert.ok(counts.heavy > 1400 && counts.heavy < 1800, `heavy got ${counts.heavy} of 2000`);
  });

  it('walks the ring past tried instances, then reports exhaustion', () => {
    const picker = createConsistentHashPicker(gpus);
    const tried = new Set<string>();
    const order: string[] = [];
    for (;;) {
      const name = picker.pick({ tried, hashKey: 'session-7' });
      if (name === undefined) break;
      order.push(name);
      tried.add(name);
    }
    assert.deepEqual([...order].sort(), ['gpu-a', 'gpu-b', 'gpu-c'], 'each instance exactly once');
  });

  it('never picks a zero-weight instance next to positive ones; all-zero weights count as equal', () => {
    const mixed = createConsistentHashPicker([
      { name: 'zero', weight: 0 },
      { name: 'one', weight: 1 },
    ]);
    const tried = new Set<string>();
    assert.equal(mixed.pick({ tried, hashKey: 'k' }), 'one');
    tried.add('one');
    assert.equal(mixed.pick({ tried, hashKey: 'k' }), undefined);

    const allZero = createConsistentHashPicker([
      { name: 'x', weight: 0 },
      { name: 'y', weight: 0 },
    ]);
    const picked = new Set(sessions.map((key) => allZero.pick({ tried: new Set(), hashKey: key })));
    assert.deepEqual([...picked].sort(), ['x', 'y']);
  });
});

describe('chash through createInstanceBalancer: the ring is stable under health changes (§2.5, §2.7)', () => {
  const instances: PrioritizedInstance[] = [
    { name: 'gpu-a', weight: 3, priority: 0 },
    { name: 'gpu-b', weight: 6, priority: 0 },
    { name: 'gpu-c', weight: 10, priority: 0 },
  ];
  const balancer = createInstanceBalancer({ algorithm: 'chash', instances, random: () => 0 });
  const route = (key: string, health: HealthLookup, onSkip?: (name: string) => void) =>
    balancer.pick({ tried: new Set(), hashKey: key }, { health, onSkip });

  it('moves only the keys of the unhealthy instance; no key still reaches it', () => {
    const before = new Map(sessions.map((key) => [key, route(key, ALL_HEALTHY)]));
    assert.ok([...before.values()].includes('gpu-a'), 'gpu-a owns some keys to begin with');
    const degraded = healthWithout('gpu-a');
    let moved = 0;
    for (const key of sessions) {
      const after = route(key, degraded);
      assert.notEqual(after, 'gpu-a', `${key} still routed to the unhealthy instance`);
      if (before.get(key) !== 'gpu-a' && after !== before.get(key)) moved += 1;
    }
    assert.equal(moved, 0, 'keys of healthy instances kept their instance');
    // Back to healthy: every key returns to where it was.
    for (const key of sessions) assert.equal(route(key, ALL_HEALTHY), before.get(key));
  });

  it('logs each unhealthy pick it skips and marks it tried', () => {
    const key = sessions.find((each) => route(each, ALL_HEALTHY) === 'gpu-a') ?? '';
    const skipped: string[] = [];
    const tried = new Set<string>();
    const name = balancer.pick(
      { tried, hashKey: key },
      { health: healthWithout('gpu-a'), onSkip: (n) => skipped.push(n) },
    );
    assert.notEqual(name, 'gpu-a');
    assert.deepEqual(skipped, ['gpu-a']);
    assert.ok(tried.has('gpu-a'));
  });

  it('ignores health when every instance is unhealthy (§2.6)', () => {
    const allDown = healthWithout('gpu-a', 'gpu-b', 'gpu-c');
    for (const key of sessions.slice(0, 10)) assert.equal(route(key, allDown), route(key, ALL_HEALTHY));
  });

  it('asks the higher priority ring first and the lower one only when it is exhausted', () => {
    const tiered = createInstanceBalancer({
      algorithm: 'chash',
      instances: [
        { name: 'primary-1', weight: 1, priority: 10 },
        { name: 'primary-2', weight: 1, priority: 10 },
        { name: 'backup', weight: 1, priority: 0 },
      ],
      random: () => 0,
    });
    const tried = new Set<string>();
    const first = tiered.pick({ tried, hashKey: 'k' }, { health: ALL_HEALTHY });
    assert.match(String(first), /^primary-/);
    tried.add(String(first));
    const second = tiered.pick({ tried, hashKey: 'k' }, { health: ALL_HEALTHY });
    assert.match(String(second), /^primary-/);
    tried.add(String(second));
    assert.equal(tiered.pick({ tried, hashKey: 'k' }, { health: ALL_HEALTHY }), 'backup');
  });
});

describe('resolveHashKey (ai-proxy-multi.md §2.5)', () => {
  const vars = new Map<string, string>([
    ['args', 'index=3'],
    ['uri', '/v1/chat/completions'],
    ['arg_user', 'u1'],
    ['http_x_session_id', 'sess-9'],
    ['cookie_sid', 'c-1'],
    ['remote_addr', '10.0.0.7'],
    ['http_x_user', 'alice'],
  ]);
  const source = (consumerName?: string) => ({
    vars: { get: (name: string) => vars.get(name) },
    consumerName,
    remoteAddr: '10.0.0.7',
  });
  const cases: Array<[string, HashKeyRule, string | undefined, { key: string; fellBack: boolean }]> = [
    ['vars query_string', { hash_on: 'vars', key: 'query_string' }, undefined, { key: 'index=3', fellBack: false }],
    ['vars arg_*', { hash_on: 'vars', key: 'arg_user' }, undefined, { key: 'u1', fellBack: false }],
    [
      'header, any case, - as _',
      { hash_on: 'header', key: 'X-Session-Id' },
      undefined,
      { key: 'sess-9', fellBack: false },
    ],
    ['cookie', { hash_on: 'cookie', key: 'sid' }, undefined, { key: 'c-1', fellBack: false }],
    ['consumer', { hash_on: 'consumer' }, 'jack', { key: 'jack', fellBack: false }],
    [
      'vars_combinations',
      { hash_on: 'vars_combinations', key: '$remote_addr-$http_x_user' },
      undefined,
      { key: '10.0.0.7-alice', fellBack: false },
    ],
    [
      'missing header → client address',
      { hash_on: 'header', key: 'x-missing' },
      undefined,
      { key: '10.0.0.7', fellBack: true },
    ],
    ['no consumer → client address', { hash_on: 'consumer' }, undefined, { key: '10.0.0.7', fellBack: true }],
    [
      'vars_combinations with nothing resolved → client address',
      { hash_on: 'vars_combinations', key: '$http_nope$arg_nope' },
      undefined,
      { key: '10.0.0.7', fellBack: true },
    ],
  ];
  for (const [name, rule, consumer, expected] of cases) {
    it(name, () => assert.deepEqual(resolveHashKey(rule, source(consumer)), expected));
  }
});
