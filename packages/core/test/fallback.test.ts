import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_HEALTHY, createInstanceBalancer } from '../src/balancer/instance-balancer.js';
import {
  type AttemptVerdict,
  type FallbackEvent,
  type FallbackResult,
  runFallbackLoop,
} from '../src/fallback/fallback-loop.js';
import {
  compileFallbackPolicy,
  decideRetry,
  FALLBACK_DEFAULTS,
  type FallbackConf,
  isRetriableStatus,
  takesErrorPath,
} from '../src/fallback/fallback-policy.js';
import { pickAvailable } from '../src/fallback/instance-availability.js';

describe('compileFallbackPolicy (ai-proxy-multi.md §1.3.1, §3.6)', () => {
  const cases: Array<[string, FallbackConf, Record<string, unknown>]> = [
    ['unset: nothing falls back', {}, { on429: false, on5xx: false, rateLimiting: false }],
    ['string http_429', { fallback_strategy: 'http_429' }, { on429: true, on5xx: false, rateLimiting: false }],
    ['string http_5xx', { fallback_strategy: 'http_5xx' }, { on429: false, on5xx: true, rateLimiting: false }],
    [
      'legacy string means rate_limiting only',
      { fallback_strategy: 'instance_health_and_rate_limiting' },
      { on429: false, on5xx: false, rateLimiting: true },
    ],
    [
      'array of every token',
      { fallback_strategy: ['rate_limiting', 'http_429', 'http_5xx'] },
      { on429: true, on5xx: true, rateLimiting: true },
    ],
    ['empty array: nothing', { fallback_strategy: [] }, { on429: false, on5xx: false, rateLimiting: false }],
  ];
  for (const [name, conf, expected] of cases) {
    it(name, () => {
      const policy = compileFallbackPolicy(conf, { instanceCount: 2 });
      assert.deepEqual({ on429: policy.on429, on5xx: policy.on5xx, rateLimiting: policy.rateLimiting }, expected);
    });
  }

  it('takes its defaults from the one literal', () => {
    const policy = compileFallbackPolicy({}, { instanceCount: 2 });
    assert.equal(policy.maxRetries, FALLBACK_DEFAULTS.maxRetries);
    assert.equal(policy.retryOnFailureWithinMs, FALLBACK_DEFAULTS.retryOnFailureWithinMs);
    assert.equal(policy.httpStatuses.size, 0);
  });

  it('is disabled for a single instance whatever the strategy (§3.6)', () => {
    const policy = compileFallbackPolicy({ fallback_strategy: ['http_5xx'] }, { instanceCount: 1 });
    assert.deepEqual(decideRetry(policy, { status: 500, elapsedMs: 1, retriesSoFar: 0 }), {
      retry: false,
      reason: 'single-instance',
    });
  });
});

describe('retryability is a property of the status (§3.2, §3.3, §6.1)', () => {
  const policy = compileFallbackPolicy(
    { fallback_strategy: ['http_429', 'http_5xx'], fallback_http_statuses: [401, 402] },
    { instanceCount: 3 },
  );
  const table: Array<[number, boolean, boolean]> = [
    // status, error path (read whole, not relayed), retriable
    [200, false, false],
    [400, false, false],
    [401, true, true],
    [402, true, true],
    [404, false, false],
    [429, true, true],
    [500, true, true],
    [502, true, true],
    [504, true, true],
  ];
  for (const [status, errorPath, retriable] of table) {
    it(`${status}: error path ${errorPath}, retriable ${retriable}`, () => {
      assert.equal(takesErrorPath(policy, status), errorPath);
      assert.equal(isRetriableStatus(policy, status), retriable);
    });
  }

  it('429 is on the error path even when http_429 is not configured, but does not fall back', () => {
    const only5xx = compileFallbackPolicy({ fallback_strategy: 'http_5xx' }, { instanceCount: 2 });
    assert.equal(takesErrorPath(only5xx, 429), true);
    assert.equal(isRetriableStatus(only5xx, 429), false);
  });
});

describe('decideRetry (§3.3)', () => {
  it('checks the slow-failure guard before max_retries, timed from the failed attempt', () => {
    const policy = compileFallbackPolicy(
      { fallback_strategy: 'http_5xx', retry_on_failure_within_ms: 200, max_retries: 0 },
      { instanceCount: 2 },
    );
    assert.deepEqual(decideRetry(policy, { status: 500, elapsedMs: 500, retriesSoFar: 0 }), {
      retry: false,
      reason: 'slow-failure',
      elapsedMs: 500,
      limitMs: 200,
    });
    assert.deepEqual(decideRetry(policy, { status: 500, elapsedMs: 50, retriesSoFar: 0 }), {
      retry: false,
      reason: 'max-retries',
      maxRetries: 0,
    });
  });

  it('max_retries k allows k retries', () => {
    const policy = compileFallbackPolicy({ fallback_strategy: 'http_5xx', max_retries: 2 }, { instanceCount: 5 });
    assert.equal(decideRetry(policy, { status: 503, elapsedMs: 0, retriesSoFar: 1 }).retry, true);
    assert.equal(decideRetry(policy, { status: 503, elapsedMs: 0, retriesSoFar: 2 }).retry, false);
  });
});

// ---------------------------------------------------------------------------------------------------
// The loop, with scripted attempts: each instance answers with a status (or 200 = final).

interface Scripted {
  readonly result: FallbackResult<string, string>;
  readonly calls: string[];
  readonly events: FallbackEvent[];
}

async function runScripted(
  conf: FallbackConf,
  instances: Array<{ name: string; priority?: number; answers: number; tookMs?: number }>,
  deadlineAt?: number,
): Promise<Scripted> {
  let clock = 0;
  const policy = compileFallbackPolicy(conf, { instanceCount: instances.length });
  const balancer = createInstanceBalancer({
    algorithm: 'roundrobin',
    instances: instances.map(({ name, priority }) => ({ name, weight: 1, priority: priority ?? 0 })),
    random: () => 0,
  });
  const calls: string[] = [];
  const events: FallbackEvent[] = [];
  const result = await runFallbackLoop<string, string>({
    policy,
    pick: (tried) => balancer.pick({ tried }, { health: ALL_HEALTHY }),
    ...(deadlineAt === undefined ? {} : { deadlinePassed: () => clock >= deadlineAt }),
    now: () => clock,
    onEvent: (event) => events.push(event),
    async attempt(name): Promise<AttemptVerdict<string, string>> {
      calls.push(name);
      const instance = instances.find((each) => each.name === name);
      clock += instance?.tookMs ?? 1;
      const status = instance?.answers ?? 0;
      if (status < 400) return { final: `${name}:${status}` };
      return { failed: { status, detail: `${name} body`, failure: `${name}:${status}` } };
    },
  });
  return { result, calls, events };
}

describe('runFallbackLoop (ai-proxy-multi.md §3, §10.1 ai-proxy-multi-retry.t)', () => {
  it('one instance failing with 5xx falls back to the next, never retrying the failed one', async () => {
    const { result, calls, events } = await runScripted({ fallback_strategy: ['http_5xx'] }, [
      { name: 'high', priority: 10, answers: 500 },
      { name: 'low', priority: 0, answers: 200 },
    ]);
    assert.deepEqual(calls, ['high', 'low']);
    assert.deepEqual(result, { kind: 'final', final: 'low:200', instance: 'low', attempts: 2 });
    const fallback = events.find((event) => event.type === 'falling-back');
    assert.equal(
      fallback?.message,
      'ai instance high returned status 500, falling back to low. upstream error body: high body',
    );
    const failed = events.filter((event) => event.type === 'attempt-failed');
    assert.deepEqual(
      failed.map((event) => event.type === 'attempt-failed' && [event.instance, event.attempt, event.status]),
      [['high', 1, 500]],
      'the failed attempt is attributed to its instance',
    );
  });

  it('every instance failing with retriable statuses → exhausted with the last failure (502 case)', async () => {
    const { result, calls, events } = await runScripted({ fallback_strategy: ['http_429', 'http_5xx'] }, [
      { name: 'p10', priority: 10, answers: 429 },
      { name: 'p0', priority: 0, answers: 500 },
    ]);
    assert.deepEqual(calls, ['p10', 'p0']);
    assert.equal(result.kind, 'exhausted');
    assert.equal(result.kind === 'exhausted' && result.failed.failure, 'p0:500');
    assert.equal(result.kind === 'exhausted' && result.attempts, 2);
    assert.ok(events.some((event) => event.message === 'failed to pick new AI instance: all servers tried'));
  });

  it('a retriable failure after the request deadline passed → deadline, no further attempt', async () => {
    const { result, calls, events } = await runScripted(
      { fallback_strategy: ['http_5xx'] },
      [
        { name: 'high', priority: 10, answers: 500, tookMs: 50 },
        { name: 'low', priority: 0, answers: 200 },
      ],
      40,
    );
    assert.deepEqual(calls, ['high']);
    assert.equal(result.kind, 'deadline');
    assert.equal(result.kind === 'deadline' && result.failed.failure, 'high:500');
    assert.ok(events.some((event) => event.message === 'request_deadline_ms exceeded, not falling back'));
  });

  it('before the deadline a retriable failure still falls back', async () => {
    const { result } = await runScripted(
      { fallback_strategy: ['http_5xx'] },
      [
        { name: 'high', priority: 10, answers: 500, tookMs: 5 },
        { name: 'low', priority: 0, answers: 200 },
      ],
      40,
    );
    assert.equal(result.kind === 'final' && result.instance, 'low');
  });

  it('max_retries 1 over three failing instances gives up after two attempts with the upstream status', async () => {
    const { result, calls, events } = await runScripted({ fallback_strategy: 'http_5xx', max_retries: 1 }, [
      { name: 'a', answers: 500 },
      { name: 'b', answers: 500 },
      { name: 'c', answers: 500 },
    ]);
    assert.equal(calls.length, 2);
    assert.equal(result.kind, 'gave-up');
    assert.equal(result.kind === 'gave-up' && result.failed.status, 500);
    assert.ok(events.some((event) => event.message === 'reached max_retries 1, not retrying'));
  });

  it('a slow failure beyond retry_on_failure_within_ms is not retried', async () => {
    const { result, calls, events } = await runScripted(
      { fallback_strategy: 'http_5xx', retry_on_failure_within_ms: 200 },
      [
        { name: 'slow', priority: 1, answers: 500, tookMs: 500 },
        { name: 'ok', priority: 0, answers: 200 },
      ],
    );
    assert.deepEqual(calls, ['slow']);
    assert.equal(result.kind, 'gave-up');
    assert.ok(
      events.some(
        (event) =>
          event.message === 'ai instance failed after 500ms, exceeding retry_on_failure_within_ms 200, not retrying',
      ),
    );
  });

  it('a fast failure within retry_on_failure_within_ms falls back', async () => {
    const { result } = await runScripted({ fallback_strategy: 'http_5xx', retry_on_failure_within_ms: 5000 }, [
      { name: 'fast', priority: 1, answers: 500, tookMs: 3 },
      { name: 'ok', priority: 0, answers: 200 },
    ]);
    assert.equal(result.kind === 'final' && result.instance, 'ok');
  });

  it('fallback_http_statuses [401, 402] walk down three priorities; max_retries 0 stops at the first', async () => {
    const instances = [
      { name: 'p20', priority: 20, answers: 401 },
      { name: 'p10', priority: 10, answers: 402 },
      { name: 'p0', priority: 0, answers: 200 },
    ];
    const walked = await runScripted({ fallback_http_statuses: [401, 402] }, instances);
    assert.deepEqual(walked.calls, ['p20', 'p10', 'p0']);
    assert.equal(walked.result.kind, 'final');

    const capped = await runScripted({ fallback_http_statuses: [401, 402], max_retries: 0 }, instances);
    assert.deepEqual(capped.calls, ['p20']);
    assert.equal(capped.result.kind === 'gave-up' && capped.result.failed.status, 401);
    assert.ok(capped.events.some((event) => event.message === 'reached max_retries 0, not retrying'));
  });

  it('a status that is not retriable goes to the client without a fallback line', async () => {
    const { result, calls, events } = await runScripted({ fallback_strategy: ['http_429', 'http_5xx'] }, [
      { name: 'a', priority: 1, answers: 401 },
      { name: 'b', priority: 0, answers: 200 },
    ]);
    assert.deepEqual(calls, ['a']);
    assert.equal(result.kind, 'gave-up');
    assert.ok(!events.some((event) => event.type === 'falling-back'));
  });

  it('a single instance never retries, even with http_5xx (§3.6)', async () => {
    const { result, calls } = await runScripted({ fallback_strategy: 'http_5xx' }, [{ name: 'only', answers: 500 }]);
    assert.deepEqual(calls, ['only']);
    assert.equal(result.kind === 'gave-up' && result.failed.status, 500);
  });

  it('nothing to pick for the first attempt (every instance rate limited) → nothing-to-pick', async () => {
    const balancer = createInstanceBalancer({
      algorithm: 'roundrobin',
      instances: [
        { name: 'a', weight: 1, priority: 0 },
        { name: 'b', weight: 1, priority: 0 },
      ],
      random: () => 0,
    });
    const skipped: string[] = [];
    const result = await runFallbackLoop({
      policy: compileFallbackPolicy({ fallback_strategy: ['rate_limiting'] }, { instanceCount: 2 }),
      pick: async (tried) => {
        const picked = await pickAvailable(
          balancer,
          { tried },
          { health: ALL_HEALTHY, onSkip: (name, reason) => skipped.push(`${name}:${reason}`) },
          async () => ({ kind: 'skip' }),
        );
        return picked.kind === 'picked' ? picked.name : undefined;
      },
      now: () => 0,
      onEvent: () => {},
      attempt: async () => ({ final: 'unreachable' }),
    });
    assert.deepEqual(result, { kind: 'nothing-to-pick', attempts: 0 });
    assert.deepEqual(skipped.sort(), ['a:unavailable', 'b:unavailable']);
  });
});
