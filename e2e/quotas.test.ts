import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { request } from 'undici';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { headerOf, httpRequest, parseJson } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { putRouteAndAwaitReplicas } from './support/put-route.js';
import { type RedisProcess, startRedis } from './support/redis.js';

/**
 * ai-rate-limiting across real processes (admin-api.md §8, ai-proxy-multi.md §9, docs/quotas.md): the
 * `local` policy shared by the workers of a node, per-consumer quotas with key-auth, and the `redis`
 * policy shared exactly by two replicas, through a Redis outage, under a burst of concurrent streams.
 * The mock LLM answers every chat with 18 total tokens (12 prompt + 6 completion).
 */

const TOKENS_PER_ANSWER = 18;

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** One request on a fresh connection, so a node's workers take turns serving them. */
async function post(url: string, body: object = CHAT_BODY, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    reset: true,
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** PUTs `route` at `/quota/<id>` and waits until every replica serves it; `loadedStatus` 401 behind key-auth. */
function putRoute(cluster: Cluster, id: string, route: Record<string, unknown>, loadedStatus = 400): Promise<string> {
  return putRouteAndAwaitReplicas(cluster, id, { ...route, uri: `/quota/${id}` }, { loadedStatus });
}

describe('ai-rate-limiting, local policy: one quota per node, per consumer', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let mockA: MockLlm;
  let mockB: MockLlm;

  before(async () => {
    [cluster, mockA, mockB] = await Promise.all([
      startCluster({ dataPlaneConfig: { nginx_config: { worker_processes: 2 } } }),
      startMockLlm({ name: 'a' }),
      startMockLlm({ name: 'b' }),
    ]);
  });
  after(async () => {
    await Promise.all([cluster?.close(), mockA?.close(), mockB?.close()]);
  });

  test('the two workers of a node share its counter: Remaining 90 72 54 36 18, then 503; the other node has its own', async () => {
    const uri = await putRoute(
      cluster,
      'local',
      aiRoute({
        uri: '',
        instances: [aiInstance({ name: 'a', endpoint: mockA.url })],
        plugins: { 'ai-rate-limiting': { limit: 5 * TOKENS_PER_ANSWER, time_window: 600 } },
      }),
    );
    const [first, second] = cluster.proxyUrls as [string, string];
    const remaining: string[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const answer = await post(`${first}${uri}`);
      statuses.push(answer.status);
      remaining.push(headerOf(answer, 'x-ai-ratelimit-remaining-a'));
    }
    // Six fresh connections alternate between the node's two workers: per-worker counters would
    // repeat values (90 90 72 72 …) and let up to ten requests through.
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503]);
    assert.deepEqual(remaining, ['90', '72', '54', '36', '18', '0']);
    const other = await post(`${second}${uri}`);
    assert.equal(other.status, 200, 'local counters are per node (APISIX): the other replica has its own');
    assert.equal(headerOf(other, 'x-ai-ratelimit-remaining-a'), '90');
  });

  test('per-consumer quotas with key-auth: each consumer is limited on its own instance, isolated from the other', async () => {
    for (const [username, key, quota] of [
      ['jack', 'jack-key', { instances: [{ name: 'a', limit: 2 * TOKENS_PER_ANSWER, time_window: 600 }] }],
      [
        'rose',
        'rose-key',
        {
          instances: [
            { name: 'a', limit: TOKENS_PER_ANSWER, time_window: 600 },
            { name: 'b', limit: TOKENS_PER_ANSWER, time_window: 600 },
          ],
        },
      ],
    ] as const) {
      const response = await cluster.admin.put(`/consumers/${username}`, {
        username,
        plugins: { 'key-auth': { key }, 'ai-rate-limiting': quota },
      });
      assert.ok(response.status === 201 || response.status === 200, response.text);
    }
    const uri = await putRoute(
      cluster,
      'consumers',
      aiRoute({
        uri: '',
        pluginFields: { fallback_strategy: ['rate_limiting'] },
        instances: [
          { ...aiInstance({ name: 'a', endpoint: mockA.url }), priority: 1 },
          aiInstance({ name: 'b', endpoint: mockB.url }),
        ],
        plugins: { 'key-auth': {} },
      }),
      401,
    );
    const [proxyUrl] = cluster.proxyUrls as [string];
    // Consumers load through the same watch as routes; wait until both keys authenticate.
    for (const key of ['jack-key', 'rose-key']) {
      await pollUntil(
        async () => (await httpRequest(`${proxyUrl}${uri}`, { body: {}, headers: { apikey: key } })).status === 400,
        {
          timeoutMs: 10_000,
          description: `consumer ${key}`,
        },
      );
    }
    const served = async (key: string): Promise<string> => {
      const answer = await post(`${proxyUrl}${uri}`, CHAT_BODY, { apikey: key });
      return answer.status === 200 ? headerOf(answer, 'x-mock-name') : String(answer.status);
    };
    const jack = [await served('jack-key'), await served('jack-key'), await served('jack-key')];
    const rose = [await served('rose-key'), await served('rose-key'), await served('rose-key')];
    assert.deepEqual(jack, ['a', 'a', 'b'], 'jack: two answers fit his quota on a, then b (unlimited for him)');
    assert.deepEqual(rose, ['a', 'b', '503'], "rose's counters are her own: jack's use of a did not touch them");
  });
});

describe('ai-rate-limiting, redis policy: two replicas share one quota', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  let mock: MockLlm;
  let redis: RedisProcess;
  let routeSeq = 0;

  before(async () => {
    [cluster, mock, redis] = await Promise.all([startCluster(), startMockLlm({ name: 'a' }), startRedis()]);
  });
  after(async () => {
    await Promise.all([cluster?.close(), mock?.close(), redis?.close()]);
  });
  beforeEach(() => {
    mock.setScenario('ok');
    mock.clear();
  });

  const redisQuota = (fields: Record<string, unknown>) => ({
    policy: 'redis',
    redis_host: redis.host,
    redis_port: redis.port,
    redis_timeout: 500,
    time_window: 600,
    ...fields,
  });

  async function quotaRoute(quota: Record<string, unknown>): Promise<string> {
    routeSeq += 1;
    return putRoute(
      cluster,
      `redis-${routeSeq}`,
      aiRoute({
        uri: '',
        instances: [aiInstance({ name: 'a', endpoint: mock.url })],
        plugins: { 'ai-rate-limiting': quota },
      }),
    );
  }

  test('alternating between replicas, exactly five 18-token answers fit a limit of 90', async () => {
    const uri = await quotaRoute(redisQuota({ limit: 5 * TOKENS_PER_ANSWER }));
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const answer = await post(`${cluster.proxyUrls[i % 2]}${uri}`);
      statuses.push(answer.status);
      remaining.push(headerOf(answer, 'x-ai-ratelimit-remaining-a'));
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503, 503, 503]);
    assert.deepEqual(remaining, ['90', '72', '54', '36', '18', '0', '0', '0']);
    const posts = mock.requests().filter((recorded) => recorded.method === 'POST').length;
    assert.equal(posts, 5);
  });

  test('Redis stopped: allow_degradation lets requests through, otherwise 500; Redis back: counting resumes', async () => {
    const degrading = await quotaRoute(redisQuota({ limit: 1000, allow_degradation: true }));
    const strict = await quotaRoute(redisQuota({ limit: 1000 }));
    const [proxyUrl] = cluster.proxyUrls as [string];
    assert.equal((await post(`${proxyUrl}${strict}`)).status, 200);

    await redis.stop();
    const allowed = await post(`${proxyUrl}${degrading}`);
    assert.equal(allowed.status, 200, allowed.text);
    const refused = await post(`${proxyUrl}${strict}`);
    assert.equal(refused.status, 500);
    assert.deepEqual(parseJson(refused.text), {
      error: {
        message: 'failed to check the AI rate limit: its counter store is unavailable',
        type: 'server_error',
        code: 'SB_ERR_QUOTA_STORE_UNAVAILABLE',
      },
    });

    await redis.start();
    // The restarted Redis is empty (no persistence): the first counted answer sees the full quota.
    const back = await pollUntil(
      async () => {
        const answer = await post(`${proxyUrl}${strict}`);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 20_000, description: 'the strict route to count again' },
    );
    assert.equal(headerOf(back, 'x-ai-ratelimit-remaining-a'), '1000');
    assert.equal(
      headerOf(await post(`${proxyUrl}${strict}`), 'x-ai-ratelimit-remaining-a'),
      String(1000 - TOKENS_PER_ANSWER),
    );
  });

  test('a burst of 10 concurrent streams against a quota of two estimates: 3 run, 7 are refused, usage settles', async () => {
    const body = { ...CHAT_BODY, stream: true, max_tokens: 100 };
    const estimate = Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) + 100;
    const limit = 2 * estimate + 1; // three reservations start while used < limit, a fourth cannot
    const uri = await quotaRoute(redisQuota({ limit }));
    mock.setScenario('gated-stream');
    let refused = 0;
    const streams = Array.from({ length: 10 }, (_, index) =>
      post(`${cluster.proxyUrls[index % 2]}${uri}`, body).then((answer) => {
        if (answer.status !== 200) refused += 1;
        return answer;
      }),
    );
    // The admitted streams hold at their first chunk until released; the others are refused meanwhile.
    await pollUntil(
      () =>
        mock.requests().filter((recorded) => recorded.method === 'POST').length === 3 && refused === 7
          ? true
          : undefined,
      { timeoutMs: 20_000, description: 'three streams admitted, seven refused' },
    );
    mock.releaseChunk(100);
    const answers = await Promise.all(streams);
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 200, 200, 503, 503, 503, 503, 503, 503, 503]);
    for (const answer of answers.filter((each) => each.status === 200)) assert.match(answer.text, /\[DONE\]/);
    // Settled to the real usage: three answers of 18 tokens, not three estimates.
    mock.setScenario('ok');
    const after = await post(`${cluster.proxyUrls[0]}${uri}`, CHAT_BODY);
    assert.equal(headerOf(after, 'x-ai-ratelimit-remaining-a'), String(limit - 3 * TOKENS_PER_ANSWER));
  });
});
