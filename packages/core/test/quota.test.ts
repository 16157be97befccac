import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCostExpression } from '../src/quota/cost-expression.js';
import { MemoryQuotaCounters } from '../src/quota/memory-quota-counters.js';
import { checkResource } from '../src/resources/check.js';

describe('cost_expr (admin-api.md §8.1)', () => {
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, details: { cached: 4 } };
  const cases: Array<[string, number]> = [
    ['prompt_tokens + completion_tokens * 4', 30],
    ['(prompt_tokens + completion_tokens) * 2', 30],
    ['max(1, floor(total_tokens / 2))', 7],
    ['math.ceil(total_tokens / 4) + min(3, 9)', 7],
    ['prompt_tokens - details.cached * 0.5', 8],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2 + 10', 6],
    ['total_tokens % 4', 3],
    ['missing_field + 1', 1],
    ['prompt_tokens / 0', 0],
    ['abs(prompt_tokens - 100)', 90],
    ['0.4', 0],
    ['0.5 + 2', 3],
    ['completion_tokens - prompt_tokens', 0],
  ];
  for (const [source, expected] of cases) {
    it(`${source} → ${expected}`, () => {
      const compiled = compileCostExpression(source);
      assert.ok(compiled.ok);
      assert.equal(compiled.evaluate(usage), expected);
    });
  }

  const errors: Array<[string, string]> = [
    ['', 'the expression is empty'],
    ['prompt_tokens +', 'unexpected end of expression at position 16'],
    ['foo(1)', 'unknown function "foo" at position 1'],
    ['3 $', 'unexpected character "$" at position 3'],
    ['(1', 'expected ")" but found end of expression at position 3'],
    ['abs(1, 2)', 'function "abs" takes one argument, got 2'],
    ['max()', 'function "max" takes at least one argument, got 0'],
    ['1 2', 'unexpected "2" at position 3'],
    ['constructor.prototype', ''],
  ];
  for (const [source, message] of errors) {
    it(`${JSON.stringify(source)} → ${message || 'reads as 0, never an object property'}`, () => {
      const compiled = compileCostExpression(source);
      if (message === '') {
        assert.ok(compiled.ok);
        assert.equal(compiled.evaluate({}), 0);
        return;
      }
      assert.deepEqual(compiled, { ok: false, message });
    });
  }
});

describe('MemoryQuotaCounters: fixed windows with reserve-then-settle', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('admits while used < limit, atomically with the add; a dry run adds nothing', () => {
    const time = clock();
    const counters = new MemoryQuotaCounters(time.now);
    const reserve = (amount: number, check = true) =>
      counters.reserveNow({ key: 'k', windowMs: 60_000, limit: 30, amount, check });
    assert.deepEqual(reserve(0), { admitted: true, usedBefore: 0, resetMs: 60_000, windowId: '1000000' });
    assert.equal(reserve(25).usedBefore, 0);
    assert.equal(reserve(25).usedBefore, 25, 'one request may overshoot: 25 < 30');
    const refused = reserve(1);
    assert.equal(refused.admitted, false);
    assert.equal(refused.usedBefore, 50, 'nothing added on refusal');
    assert.equal(reserve(5, false).admitted, true, 'an unchecked charge always lands');
    assert.equal(reserve(0).usedBefore, 55);
  });

  it('the window ends time_window after its first charge; an unused window is re-armed (APISIX quirk)', () => {
    const time = clock();
    const counters = new MemoryQuotaCounters(time.now);
    const reserve = (amount: number) =>
      counters.reserveNow({ key: 'k', windowMs: 1000, limit: 10, amount, check: true });
    reserve(0);
    time.advance(600);
    assert.equal(reserve(0).resetMs, 1000, 'nothing used yet: the window restarts');
    assert.equal(reserve(10).resetMs, 1000);
    time.advance(400);
    assert.equal(reserve(0).resetMs, 600);
    assert.equal(reserve(1).admitted, false);
    time.advance(600);
    const fresh = reserve(1);
    assert.deepEqual([fresh.admitted, fresh.usedBefore, fresh.resetMs], [true, 0, 1000]);
  });

  it('settles to the real usage in the reservation window; never credits a later window', () => {
    const time = clock();
    const counters = new MemoryQuotaCounters(time.now);
    const reserved = counters.reserveNow({ key: 'k', windowMs: 1000, limit: 100, amount: 50, check: true });
    counters.adjustNow({ key: 'k', windowMs: 1000, delta: -40, windowId: reserved.windowId });
    assert.equal(counters.reserveNow({ key: 'k', windowMs: 1000, limit: 100, amount: 0, check: true }).usedBefore, 10);

    const late = counters.reserveNow({ key: 'k', windowMs: 1000, limit: 100, amount: 30, check: true });
    time.advance(1500);
    counters.adjustNow({ key: 'k', windowMs: 1000, delta: -30, windowId: late.windowId });
    counters.adjustNow({ key: 'k', windowMs: 1000, delta: 7, windowId: late.windowId });
    assert.equal(
      counters.reserveNow({ key: 'k', windowMs: 1000, limit: 100, amount: 0, check: true }).usedBefore,
      7,
      'a release after the window ended is dropped; an extra charge lands in the current window',
    );
  });

  it('keeps counters apart by key and drops ended windows', () => {
    const time = clock();
    const counters = new MemoryQuotaCounters(time.now);
    for (let i = 0; i < 10; i += 1)
      counters.reserveNow({ key: `k${i}`, windowMs: 10, limit: 5, amount: 1, check: true });
    assert.equal(counters.size, 10);
    time.advance(20);
    for (let i = 0; i < 1100; i += 1)
      counters.reserveNow({ key: 'live', windowMs: 100_000, limit: 1e9, amount: 1, check: true });
    assert.equal(counters.size, 1);
  });
});

describe('ai-rate-limiting schema (admin-api.md §8.1)', () => {
  const check = (conf: unknown) => {
    const result = checkResource('routes', { uri: '/x', plugins: { 'ai-rate-limiting': conf } }, { mode: 'admin' });
    return result.ok ? 'ok' : result.message;
  };
  const prefix = 'failed to check the configuration of plugin ai-rate-limiting err: ';
  const cases: Array<[string, unknown, string]> = [
    ['limit and time_window', { limit: 30, time_window: 60 }, 'ok'],
    ['instances only', { instances: [{ name: 'gpt-4.1', limit: 10, time_window: 60 }] }, 'ok'],
    ['rules only', { rules: [{ count: 10, time_window: 60, key: '$remote_addr' }] }, 'ok'],
    ['variable limit', { limit: '$http_x_quota', time_window: 60 }, 'ok'],
    ['limit without time_window', { limit: 30 }, `${prefix}property "time_window" is required when "limit" is set`],
    [
      'time_window without limit',
      { time_window: 60 },
      `${prefix}property "limit" is required when "time_window" is set`,
    ],
    ['nothing', {}, `${prefix}value should match only one schema, but matches none`],
    [
      'limit and rules together',
      { limit: 30, time_window: 60, rules: [{ count: 1, time_window: 1, key: '$remote_addr' }] },
      `${prefix}value should match only one schema, but matches both schemas 1 and 2`,
    ],
    [
      'limit 0',
      { limit: 0, time_window: 60 },
      `${prefix}property "limit" validation failed: value should match only one schema, but matches none`,
    ],
    [
      'empty instances',
      { instances: [] },
      `${prefix}property "instances" validation failed: expect array to have at least 1 items`,
    ],
    [
      'duplicate instance names',
      {
        instances: [
          { name: 'a', limit: 1, time_window: 1 },
          { name: 'a', limit: 2, time_window: 1 },
        ],
      },
      `${prefix}duplicate instance name 'a' at instances[2]`,
    ],
    [
      'rejected_code 100',
      { limit: 1, time_window: 1, rejected_code: 100 },
      `${prefix}property "rejected_code" validation failed: expected 100 to be at least 200`,
    ],
    [
      'unknown policy',
      { limit: 1, time_window: 1, policy: 'memcached' },
      `${prefix}property "policy" validation failed: matches none of the enum values`,
    ],
    [
      'expression without cost_expr',
      { limit: 1, time_window: 1, limit_strategy: 'expression' },
      `${prefix}cost_expr is required when limit_strategy is 'expression'`,
    ],
    [
      'invalid cost_expr',
      { limit: 1, time_window: 1, limit_strategy: 'expression', cost_expr: 'a +' },
      `${prefix}invalid cost_expr: unexpected end of expression at position 4`,
    ],
    [
      'redis without redis_host',
      { limit: 1, time_window: 1, policy: 'redis' },
      `${prefix}property "redis_host" is required when "policy" is "redis"`,
    ],
    [
      'redis-cluster without nodes',
      { limit: 1, time_window: 1, policy: 'redis-cluster', redis_cluster_name: 'c' },
      `${prefix}property "redis_cluster_nodes" is required when "policy" is "redis-cluster"`,
    ],
    ['redis with redis_host', { limit: 1, time_window: 1, policy: 'redis', redis_host: '127.0.0.1' }, 'ok'],
    ['reservation off', { limit: 1, time_window: 1, reservation: { enabled: false } }, 'ok'],
    [
      'reservation typo',
      { limit: 1, time_window: 1, reservation: { enable: false } },
      `${prefix}property "reservation" validation failed: additional properties forbidden, found enable`,
    ],
  ];
  for (const [name, conf, expected] of cases) {
    it(`${name} → ${expected === 'ok' ? 'accepted' : 'refused'}`, () => assert.equal(check(conf), expected));
  }
});

describe('ai-rate-limiting secrets at rest (admin-api.md §8.1 encrypt_fields)', () => {
  it('encrypts redis_password and sentinel_password on routes and consumers, and decrypts them back', async () => {
    const { createFieldCipher, decryptResourceSecrets, encryptResourceSecrets } = await import(
      '../src/crypto/field-encryption.js'
    );
    const cipher = createFieldCipher(['qeddd145sfvddff3']);
    const conf = {
      limit: 1,
      time_window: 1,
      policy: 'redis',
      redis_host: 'r',
      redis_password: 's3cret',
      sentinel_password: 'x',
    };
    for (const kind of ['routes', 'consumers'] as const) {
      const stored = encryptResourceSecrets(kind, { plugins: { 'ai-rate-limiting': conf } }, cipher);
      const storedConf = stored.plugins['ai-rate-limiting'];
      assert.notEqual(storedConf.redis_password, 's3cret');
      assert.notEqual(storedConf.sentinel_password, 'x');
      assert.equal(storedConf.redis_host, 'r');
      assert.deepEqual(decryptResourceSecrets(kind, stored, cipher).plugins['ai-rate-limiting'], conf);
    }
  });
});
