import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { type HttpResult, headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { putRouteAndAwaitReplicas } from './support/put-route.js';

/**
 * Fault scenarios of issue 4 through two data-plane replicas against etcd (ai-proxy-multi.md §3,
 * docs/balancing.md): each test names the fault and the outcome the client sees. Mock `a` is the
 * preferred instance (priority 1), `b` the fallback (priority 0).
 */

describe('fallback fault scenarios through two data-plane replicas', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let mockA: MockLlm;
  let mockB: MockLlm;
  let routeSeq = 0;

  before(async () => {
    [cluster, mockA, mockB] = await Promise.all([
      startCluster(),
      startMockLlm({ name: 'a' }),
      startMockLlm({ name: 'b' }),
    ]);
  });
  after(async () => {
    await Promise.all([cluster?.close(), mockA?.close(), mockB?.close()]);
  });
  beforeEach(() => {
    for (const mock of [mockA, mockB]) {
      mock.setScenario('ok');
      mock.clear();
    }
  });

  /** PUTs a route with a fresh URI and waits until every replica serves it; resolves the path. */
  async function putRoute(
    pluginFields: Record<string, unknown>,
    instances?: Record<string, unknown>[],
  ): Promise<string> {
    routeSeq += 1;
    const route = aiRoute({
      uri: `/fallback/${routeSeq}`,
      pluginFields,
      instances: instances ?? [
        { ...aiInstance({ name: 'a', endpoint: mockA.url }), priority: 1 },
        aiInstance({ name: 'b', endpoint: mockB.url }),
      ],
    });
    return putRouteAndAwaitReplicas(cluster, String(routeSeq), route);
  }

  const chat = (proxyUrl: string, uri: string): Promise<HttpResult> =>
    httpRequest(`${proxyUrl}${uri}`, { body: CHAT_BODY });
  const posts = (mock: MockLlm) => mock.requests().filter((request) => request.method === 'POST').length;

  test('429 with Retry-After: 2 → b answers, a rests for those 2 s (passive health), then serves again', async () => {
    const uri = await putRoute({
      fallback_strategy: ['http_429', 'http_5xx'],
      passive_health: {},
      attempt_headers: true,
    });
    for (const proxyUrl of cluster.proxyUrls) {
      mockA.clear();
      mockA.setScenario({ kind: 'status', status: 429, headers: { 'retry-after': '2' } }, { times: 1 });
      const first = await chat(proxyUrl, uri);
      assert.equal(first.status, 200);
      assert.equal(headerOf(first, 'x-mock-name'), 'b');
      assert.equal(headerOf(first, 'x-ai-attempts'), '2');
      // a is out on this node: the next requests go straight to b, a is not even asked.
      for (let index = 0; index < 3; index++) assert.equal(headerOf(await chat(proxyUrl, uri), 'x-mock-name'), 'b');
      assert.equal(posts(mockA), 1, 'a got only the request it rate limited');
      await pollUntil(async () => headerOf(await chat(proxyUrl, uri), 'x-mock-name') === 'a', {
        timeoutMs: 10_000,
        intervalMs: 200,
        description: 'a back after its Retry-After',
      });
    }
  });

  test('429 every time without passive health → every request falls back to b; both 429 → 502', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_429'] });
    mockA.setScenario('status:429');
    for (const proxyUrl of cluster.proxyUrls) {
      for (let index = 0; index < 3; index++) {
        const answer = await chat(proxyUrl, uri);
        assert.equal(answer.status, 200);
        assert.equal(headerOf(answer, 'x-mock-name'), 'b');
      }
    }
    assert.equal(posts(mockA), 6, 'a is tried first each time: nothing takes it out');
    mockB.setScenario('status:429');
    const exhausted = await chat(cluster.proxyUrls[0] ?? '', uri);
    assert.equal(exhausted.status, 502);
    assert.match(exhausted.text, /Rate limit reached/, 'the last upstream error body');
  });

  test('one 500 then success → that request is answered by b, the next one by a again', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'] });
    for (const proxyUrl of cluster.proxyUrls) {
      mockA.setScenario('status:500', { times: 1 });
      const first = await chat(proxyUrl, uri);
      assert.equal(first.status, 200);
      assert.equal(headerOf(first, 'x-mock-name'), 'b');
      const second = await chat(proxyUrl, uri);
      assert.equal(headerOf(second, 'x-mock-name'), 'a');
    }
  });

  test('503 every time → b answers every request; both 503 → 502 with the upstream body', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'] });
    mockA.setScenario('status:503:{"error":{"message":"a is overloaded"}}');
    for (const proxyUrl of cluster.proxyUrls) {
      const answer = await chat(proxyUrl, uri);
      assert.equal(answer.status, 200);
      assert.equal(headerOf(answer, 'x-mock-name'), 'b');
    }
    mockB.setScenario('status:503:{"error":{"message":"b is overloaded"}}');
    for (const proxyUrl of cluster.proxyUrls) {
      const answer = await chat(proxyUrl, uri);
      assert.equal(answer.status, 502);
      assert.deepEqual(answer.json, { error: { message: 'b is overloaded' } });
    }
    const logs = cluster.dataPlanes[0]?.logs() ?? '';
    assert.match(logs, /ai instance a returned status 503, falling back to b/);
  });

  test('TCP reset before headers → b answers; with no fallback configured → 500, OpenAI-shaped', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'] });
    mockA.setScenario('reset');
    for (const proxyUrl of cluster.proxyUrls) {
      const answer = await chat(proxyUrl, uri);
      assert.equal(answer.status, 200);
      assert.equal(headerOf(answer, 'x-mock-name'), 'b');
    }
    const plain = await putRoute({});
    const answer = await chat(cluster.proxyUrls[0] ?? '', plain);
    assert.equal(answer.status, 500);
    assert.equal((answer.json as { error?: { code?: string } }).error?.code, 'SB_ERR_UPSTREAM_CONNECT');
  });

  test('no response at all with timeout 300 ms → 504 from a, b answers', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'], timeout: 300 });
    mockA.setScenario('hang');
    for (const proxyUrl of cluster.proxyUrls) {
      const answer = await chat(proxyUrl, uri);
      assert.equal(answer.status, 200);
      assert.equal(headerOf(answer, 'x-mock-name'), 'b');
    }
    assert.match(cluster.dataPlanes[1]?.logs() ?? '', /ai instance a returned status 504, falling back to b/);
  });

  test('400 context length or content filter → relayed to the client as is, never retried on another instance', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_429', 'http_5xx'] });
    const bodies = [
      '{"error":{"message":"maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}',
      '{"error":{"message":"The response was filtered","type":"invalid_request_error","code":"content_filter"}}',
    ];
    for (const body of bodies) {
      mockA.setScenario(`status:400:${body}`);
      for (const proxyUrl of cluster.proxyUrls) {
        const answer = await chat(proxyUrl, uri);
        assert.equal(answer.status, 400);
        assert.equal(answer.text, body);
      }
    }
    assert.equal(posts(mockA), 4);
    assert.equal(posts(mockB), 0);
  });

  test('priority + fallback: a failing sends traffic to the lower group; a recovered gets it back', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_429', 'http_5xx'] });
    mockA.setScenario('status:502');
    for (const proxyUrl of cluster.proxyUrls) {
      for (let index = 0; index < 3; index++) assert.equal(headerOf(await chat(proxyUrl, uri), 'x-mock-name'), 'b');
    }
    mockA.setScenario('ok');
    for (const proxyUrl of cluster.proxyUrls) {
      for (let index = 0; index < 3; index++) assert.equal(headerOf(await chat(proxyUrl, uri), 'x-mock-name'), 'a');
    }
  });
});
