import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MemoryQuotaCounters, type QuotaCounterStore } from '@switchboard/core';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import { request } from './support/harness.js';
import { type RunningProxy, startProxy } from './support/proxy-harness.js';
import { type ScriptedUpstream, startScriptedUpstream, upstreamInstance } from './support/scripted-upstream.js';

/**
 * ai-rate-limiting through the real pipeline (admin-api.md §8, ai-proxy-multi.md §9): APISIX's pinned
 * sequences, per-instance and per-consumer quotas, fallback over exhausted instances, and
 * reserve-then-settle (Beyond APISIX). Each upstream answers with a usage the test sets.
 */

interface Upstream {
  readonly name: string;
  readonly url: string;
  hits: number;
  /** Tokens per answer: prompt, completion (total is their sum); undefined → no usage in the answer. */
  usage: { prompt: number; completion: number } | undefined;
  /** Held answers (a gate for concurrency tests): each is released by calling it. */
  readonly held: Array<() => void>;
  hold: boolean;
  stream: boolean;
  close(): Promise<void>;
}

async function startUpstream(name: string): Promise<Upstream> {
  const upstream: Upstream = {
    name,
    url: '',
    hits: 0,
    usage: { prompt: 4, completion: 6 },
    held: [],
    hold: false,
    stream: false,
    close: async () => {},
  };
  const answer = (res: ServerResponse) => {
    const usage =
      upstream.usage === undefined
        ? undefined
        : {
            prompt_tokens: upstream.usage.prompt,
            completion_tokens: upstream.usage.completion,
            total_tokens: upstream.usage.prompt + upstream.usage.completion,
          };
    if (upstream.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-upstream': name });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `hi from ${name}` } }] })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${name}`,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: `hi from ${name}` }, finish_reason: 'stop' }],
        ...(usage === undefined ? {} : { usage }),
      }),
    );
  };
  const server = await startScriptedUpstream(name, (_req, res) => {
    upstream.hits += 1;
    if (upstream.hold) upstream.held.push(() => answer(res));
    else answer(res);
  });
  return Object.assign(upstream, { url: server.url, close: server.close });
}

const CHAT = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

/** A counter store that can be switched off, standing in for an unreachable Redis. */
class SwitchableStore implements QuotaCounterStore {
  down = false;
  constructor(private readonly inner: QuotaCounterStore) {}
  reserve(request: Parameters<QuotaCounterStore['reserve']>[0]) {
    return this.down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) : this.inner.reserve(request);
  }
  adjust(request: Parameters<QuotaCounterStore['adjust']>[0]) {
    return this.down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) : this.inner.adjust(request);
  }
}

describe('ai-rate-limiting with ai-proxy and ai-proxy-multi (admin-api.md §8, ai-proxy-multi.md §9)', () => {
  let proxy: RunningProxy;
  let gpt4: Upstream;
  let gpt3: Upstream;
  let seq = 0;
  const store = new SwitchableStore(new MemoryQuotaCounters(Date.now));

  before(async () => {
    [gpt4, gpt3] = await Promise.all([startUpstream('gpt-4'), startUpstream('gpt-3')]);
    proxy = await startProxy({
      plugins: createRuntimePluginRegistry({
        random: () => 0,
        now: () => performance.now(),
        quotaStores: { local: store, remote: () => store },
      }),
    });
  });
  after(async () => {
    await proxy.close();
    await Promise.all([gpt4.close(), gpt3.close()]);
  });
  beforeEach(() => {
    for (const upstream of [gpt4, gpt3]) {
      upstream.hits = 0;
      upstream.usage = { prompt: 4, completion: 6 };
      upstream.hold = false;
      upstream.stream = false;
      upstream.held.length = 0;
    }
    store.down = false;
  });

  /** PUTs a route (fresh id unless given) and resolves its URL once the proxy serves it. */
  async function route(plugins: Record<string, unknown>, id = `${++seq}`): Promise<string> {
    const uri = `/quota/${id}`;
    await proxy.applied(await proxy.store.put(`/apisix/routes/${id}`, { uri, plugins }));
    return `${proxy.url}${uri}`;
  }

  const post = (url: string, body = CHAT, headers: Record<string, string> = {}) =>
    request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  const reservationOff = { enabled: false };

  it('ai-proxy, limit 30 per 60 s, 10 tokens per answer → 200 200 200 503; Remaining 30 20 10 0 (APISIX pinned)', async () => {
    const url = await route({
      'ai-proxy': {
        provider: 'openai-compatible',
        auth: { header: { authorization: 'Bearer test' } },
        override: { endpoint: gpt4.url },
      },
      'ai-rate-limiting': { limit: 30, time_window: 60 },
    });
    const statuses: number[] = [];
    const remaining: unknown[] = [];
    let first: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 4; i += 1) {
      const answer = await post(url);
      first ??= answer;
      statuses.push(answer.status);
      remaining.push(answer.headers['x-ai-ratelimit-remaining-ai-proxy-openai-compatible']);
    }
    assert.deepEqual(statuses, [200, 200, 200, 503]);
    assert.deepEqual(remaining, ['30', '20', '10', '0']);
    assert.equal(first?.headers['x-ai-ratelimit-limit-ai-proxy-openai-compatible'], '30');
    assert.equal(first?.headers['x-ai-ratelimit-reset-ai-proxy-openai-compatible'], '60');
    assert.equal(gpt4.hits, 3);
  });

  it('rejected_code 403 and rejected_msg → the 4th request is 403 {"error_msg":"rate limit exceeded"}', async () => {
    const url = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit: 30, time_window: 60, rejected_code: 403, rejected_msg: 'rate limit exceeded' },
    });
    for (let i = 0; i < 3; i += 1) assert.equal((await post(url)).status, 200);
    const rejected = await post(url);
    assert.equal(rejected.status, 403);
    assert.equal(rejected.text, '{"error_msg":"rate limit exceeded"}\n');
    assert.equal(rejected.headers['x-ai-ratelimit-remaining-gpt-4'], '0');
  });

  it('without rejected_msg the rejection is an OpenAI-shaped error naming the instance', async () => {
    const url = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit: 10, time_window: 60 },
    });
    assert.equal((await post(url)).status, 200);
    const rejected = await post(url);
    assert.equal(rejected.status, 503);
    assert.deepEqual(rejected.json(), {
      error: { message: 'token quota exceeded for gpt-4', type: 'server_error', code: 'SB_ERR_RATE_LIMITED' },
    });
  });

  it('global limit 10 with instance_health_and_rate_limiting: gpt-4, then gpt-3, then 503 all servers tried', async () => {
    const url = await route({
      'ai-proxy-multi': {
        fallback_strategy: 'instance_health_and_rate_limiting',
        instances: [upstreamInstance(gpt4, { priority: 1 }), upstreamInstance(gpt3, { priority: 0 })],
      },
      'ai-rate-limiting': { limit: 10, time_window: 60 },
    });
    const first = await post(url);
    const second = await post(url);
    const third = await post(url);
    assert.deepEqual(
      [first.headers['x-upstream'], second.headers['x-upstream'], third.status],
      ['gpt-4', 'gpt-3', 503],
    );
    assert.equal(third.json<{ error: { message: string } }>().error.message, 'all servers tried');
    assert.equal(second.headers['x-ai-ratelimit-remaining-gpt-4'], '0', 'the skipped instance reports its headers');
    assert.equal(second.headers['x-ai-ratelimit-remaining-gpt-3'], '10');
  });

  it('per-instance limits gpt-4 20 / gpt-3 50 at 10 tokens each: two to gpt-4, five to gpt-3, then 503', async () => {
    const url = await route({
      'ai-proxy-multi': {
        fallback_strategy: ['rate_limiting'],
        instances: [upstreamInstance(gpt4, { priority: 1 }), upstreamInstance(gpt3, { priority: 0 })],
      },
      'ai-rate-limiting': {
        instances: [
          { name: 'gpt-4', limit: 20, time_window: 60 },
          { name: 'gpt-3', limit: 50, time_window: 60 },
        ],
      },
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const answer = await post(url);
      outcomes.push(answer.status === 200 ? String(answer.headers['x-upstream']) : String(answer.status));
    }
    assert.deepEqual(outcomes, ['gpt-4', 'gpt-4', 'gpt-3', 'gpt-3', 'gpt-3', 'gpt-3', 'gpt-3', '503']);
  });

  it('without the rate_limiting strategy an exhausted pick is rejected with rejected_code (no fallback)', async () => {
    const url = await route({
      'ai-proxy-multi': {
        fallback_strategy: ['http_5xx'],
        instances: [upstreamInstance(gpt4, { priority: 1 }), upstreamInstance(gpt3, { priority: 0 })],
      },
      'ai-rate-limiting': { instances: [{ name: 'gpt-4', limit: 10, time_window: 60 }], rejected_code: 429 },
    });
    assert.equal((await post(url)).headers['x-upstream'], 'gpt-4');
    const rejected = await post(url);
    assert.equal(rejected.status, 429);
    assert.equal(gpt3.hits, 0);
  });

  it('changing the conf starts fresh counters; re-sending the same conf keeps them', async () => {
    const conf = (limit: number) => ({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit, time_window: 60 },
    });
    const url = await route(conf(10), 'reset-me');
    assert.equal((await post(url)).status, 200);
    assert.equal((await post(url)).status, 503);
    await route(conf(10), 'reset-me');
    assert.equal((await post(url)).status, 503, 'the same conf keeps the used-up counter');
    await route(conf(20), 'reset-me');
    const fresh = await post(url);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers['x-ai-ratelimit-remaining-gpt-4'], '20');
  });

  it('limit_strategy prompt_tokens / completion_tokens / expression charge what they name', async () => {
    gpt4.usage = { prompt: 3, completion: 7 };
    const remainingAfterOne = async (conf: Record<string, unknown>): Promise<unknown> => {
      const url = await route({
        'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
        'ai-rate-limiting': { limit: 100, time_window: 60, ...conf },
      });
      await post(url);
      return (await post(url)).headers['x-ai-ratelimit-remaining-gpt-4'];
    };
    assert.equal(await remainingAfterOne({ limit_strategy: 'prompt_tokens' }), '97');
    assert.equal(await remainingAfterOne({ limit_strategy: 'completion_tokens' }), '93');
    assert.equal(await remainingAfterOne({}), '90');
    assert.equal(
      await remainingAfterOne({ limit_strategy: 'expression', cost_expr: 'prompt_tokens + completion_tokens * 4' }),
      '69',
    );
  });

  it('a limit read from a request header; a request without it gets a 500 that says which variable', async () => {
    const url = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit: '$http_x_quota', time_window: 60 },
    });
    const answer = await post(url, CHAT, { 'x-quota': '25' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-ai-ratelimit-limit-gpt-4'], '25');
    const missing = await post(url);
    assert.equal(missing.status, 500);
    assert.equal(missing.json<{ error: { code: string } }>().error.code, 'SB_ERR_QUOTA_LIMIT_UNRESOLVED');
    assert.match(missing.text, /limit variable did not resolve/);
  });

  it('rules mode: a counter per resolved key with X-AI-<prefix>-RateLimit-* headers, never a fallback', async () => {
    const url = await route({
      'ai-proxy-multi': {
        fallback_strategy: ['rate_limiting'],
        instances: [upstreamInstance(gpt4, { priority: 1 }), upstreamInstance(gpt3)],
      },
      'ai-rate-limiting': { rules: [{ count: 10, time_window: 60, key: '$http_x_team', header_prefix: 'team' }] },
    });
    const red = await post(url, CHAT, { 'x-team': 'red' });
    assert.equal(red.headers['x-ai-team-ratelimit-remaining'], '10');
    assert.equal((await post(url, CHAT, { 'x-team': 'red' })).status, 503);
    assert.equal(gpt3.hits, 0, 'a rule rejection never falls back to another instance');
    const blue = await post(url, CHAT, { 'x-team': 'blue' });
    assert.equal(blue.status, 200);
    assert.equal(blue.headers['x-ai-team-ratelimit-remaining'], '10');
  });

  it('reserve-then-settle: concurrent requests cannot overrun the quota by more than one estimate', async () => {
    // Each request reserves prompt ≈ ceil(bytes / 4) plus max_tokens 40 before it is sent.
    const body = JSON.stringify({ model: 'm', max_tokens: 40, messages: [{ role: 'user', content: 'hi' }] });
    const estimate = Math.ceil(Buffer.byteLength(body) / 4) + 40;
    const limit = 2 * estimate + 1; // room for three reservations to start (used < limit), not four
    const url = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit, time_window: 60 },
    });
    gpt4.hold = true;
    let refused = 0;
    const answers = Array.from({ length: 6 }, () =>
      post(url, body).then((answer) => {
        if (answer.status !== 200) refused += 1;
        return answer;
      }),
    );
    // Three reach the upstream and wait there; the other three are refused while those are in flight.
    while (gpt4.held.length < 3 || refused < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const release of gpt4.held.splice(0)) release();
    const statuses = (await Promise.all(answers)).map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 503, 503, 503]);
    assert.equal(gpt4.hits, 3);
  });

  it('an answer without usage is charged its estimate, never zero; with reservation off it is free (APISIX)', async () => {
    gpt4.usage = undefined;
    gpt4.stream = true;
    const body = JSON.stringify({
      model: 'm',
      stream: true,
      max_tokens: 30,
      messages: [{ role: 'user', content: 'x' }],
    });
    const estimate = Math.ceil(Buffer.byteLength(body) / 4) + 30;
    let url = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit: 1000, time_window: 60 },
    });
    await (await post(url, body)).text;
    assert.equal((await post(url, body)).headers['x-ai-ratelimit-remaining-gpt-4'], String(1000 - estimate));

    url = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit: 1000, time_window: 60, reservation: reservationOff },
    });
    await post(url, body);
    assert.equal((await post(url, body)).headers['x-ai-ratelimit-remaining-gpt-4'], '1000');
    assert.ok(proxy.log.lines.some((line) => line.msg === 'failed to get token usage for llm service'));
  });

  it('a failed attempt gives its reservation back: usage is charged to the instance that answered', async () => {
    const failing = await startUpstreamAnswering(500);
    try {
      const url = await route({
        'ai-proxy-multi': {
          fallback_strategy: ['http_5xx', 'rate_limiting'],
          instances: [
            { ...upstreamInstance(gpt4, { priority: 1 }), name: 'broken', override: { endpoint: failing.url } },
            upstreamInstance(gpt3),
          ],
        },
        'ai-rate-limiting': { limit: 100, time_window: 60 },
      });
      const answer = await post(url);
      assert.equal(answer.headers['x-upstream'], 'gpt-3');
      const next = await post(url);
      assert.equal(next.headers['x-ai-ratelimit-remaining-broken'], '100', 'the failed instance was not charged');
      assert.equal(next.headers['x-ai-ratelimit-remaining-gpt-3'], '90');
    } finally {
      await failing.close();
    }
  });

  it('counters unreachable: allow_degradation lets requests through; without it → 500 SB_ERR_QUOTA_STORE_UNAVAILABLE', async () => {
    const allowing = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': {
        limit: 10,
        time_window: 60,
        policy: 'redis',
        redis_host: '127.0.0.1',
        allow_degradation: true,
      },
    });
    const refusing = await route({
      'ai-proxy-multi': { instances: [upstreamInstance(gpt4)] },
      'ai-rate-limiting': { limit: 10, time_window: 60, policy: 'redis', redis_host: '127.0.0.1' },
    });
    store.down = true;
    const allowed = await post(allowing);
    assert.equal(allowed.status, 200);
    const refused = await post(refusing);
    assert.equal(refused.status, 500);
    assert.deepEqual(refused.json(), {
      error: {
        message: 'failed to check the AI rate limit: its counter store is unavailable',
        type: 'server_error',
        code: 'SB_ERR_QUOTA_STORE_UNAVAILABLE',
      },
    });
    assert.doesNotMatch(refused.text, /6379/, 'the client never sees where the store lives');
  });
});

/** An upstream that answers every request with `status` and an error body. */
function startUpstreamAnswering(status: number): Promise<ScriptedUpstream> {
  return startScriptedUpstream(`answers-${status}`, (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"broken"}}');
  });
}
