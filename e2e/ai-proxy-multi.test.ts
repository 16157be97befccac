import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { readSseData } from './support/sse.js';

/**
 * ai-proxy-multi through two data-plane replicas against two mock LLMs: what the upstream receives
 * (ai-proxy-multi.md §4.2–4.4, §5.4–5.5), byte-for-byte relay (§4.4, §6.2), chunk-by-chunk streaming
 * (§6.3, DECISIONS "Beyond APISIX") and the interleaved weighted round robin (§2.3: 4:1 → 8/2).
 */

/** Deliberately not what JSON.stringify would produce, so any re-encoding shows. */
const RAW_CHAT_BODY = '{ "model" : "client-model",\n  "messages": [ {"role": "user", "content": "Say hello."} ] }';

describe('ai-proxy-multi through two data-plane replicas', () => {
  let cluster: Cluster;
  let mockA: MockLlm;
  let mockB: MockLlm;

  before(async () => {
    [cluster, mockA, mockB] = await Promise.all([
      startCluster(),
      startMockLlm({ name: 'a' }),
      startMockLlm({ name: 'b' }),
    ]);
    const routes = {
      weighted: aiRoute({
        uri: '/v1/chat/completions',
        instances: [
          aiInstance({
            name: 'a',
            weight: 4,
            endpoint: `${mockA.url}/custom/a/chat?deployment=d1`,
            auth: { header: { Authorization: 'Bearer key-a' }, query: { api_key: 'qa' } },
            options: { model: 'model-a', temperature: 0.5 },
          }),
          aiInstance({ name: 'b', weight: 1, endpoint: mockB.url, auth: { header: { 'X-Api-Key': 'key-b' } } }),
        ],
      }),
      embeddings: aiRoute({
        uri: '/v1/embeddings',
        instances: [
          aiInstance({
            name: 'emb',
            provider: 'openai',
            endpoint: mockA.url,
            options: { model: 'text-embedding-3-small' },
          }),
        ],
      }),
      stream: aiRoute({ uri: '/stream', instances: [aiInstance({ name: 'streamer', endpoint: mockA.url })] }),
    };
    for (const [id, route] of Object.entries(routes)) {
      const response = await cluster.admin.put(`/routes/${id}`, route);
      assert.equal(response.status, 201, response.text);
    }
    await Promise.all(
      cluster.proxyUrls.flatMap((proxyUrl) =>
        ['/v1/chat/completions', '/v1/embeddings', '/stream'].map((path) =>
          pollUntil(
            async () =>
              (await httpRequest(`${proxyUrl}${path}`, { body: { input: 'x', messages: [] } })).status !== 404,
            {
              timeoutMs: 10_000,
              description: `${path} on ${proxyUrl}`,
            },
          ),
        ),
      ),
    );
  });
  after(async () => {
    await Promise.all([cluster?.close(), mockA?.close(), mockB?.close()]);
  });

  test('weights 4:1 split exactly 8/2 over 10 requests on each replica; each instance gets its own request', async () => {
    for (const proxyUrl of cluster.proxyUrls) {
      mockA.clear();
      mockB.clear();
      const answeredBy: string[] = [];
      for (let index = 0; index < 10; index++) {
        const response = await httpRequest(`${proxyUrl}/v1/chat/completions?client=query`, {
          headers: { 'content-type': 'application/json', 'x-client-header': 'kept' },
          body: RAW_CHAT_BODY,
        });
        assert.equal(response.status, 200, response.text);
        answeredBy.push(headerOf(response, 'x-mock-name'));
      }
      assert.equal(answeredBy.filter((name) => name === 'a').length, 8, `${proxyUrl}: ${answeredBy.join(',')}`);
      assert.equal(answeredBy.filter((name) => name === 'b').length, 2, `${proxyUrl}: ${answeredBy.join(',')}`);

      // Instance a: the endpoint's path and query, auth header and query, options merged (§4.2–4.4).
      const [toA] = mockA.requests();
      assert.ok(toA);
      assert.equal(toA.method, 'POST');
      assert.equal(toA.path, '/custom/a/chat');
      assert.deepEqual(
        toA.query,
        { deployment: 'd1', api_key: 'qa' },
        'auth.query plus endpoint query; the client query is not forwarded',
      );
      assert.equal(toA.headers.authorization, 'Bearer key-a');
      assert.equal(toA.headers['x-client-header'], 'kept', 'client headers are forwarded (§5.4)');
      assert.match(String(toA.headers['content-type']), /^application\/json/);
      assert.deepEqual(toA.json, { ...CHAT_BODY, model: 'model-a', temperature: 0.5 });

      // Instance b: provider default path, its own auth, the client's bytes unchanged (§4.4 passthrough).
      const [toB] = mockB.requests();
      assert.ok(toB);
      assert.equal(toB.path, '/v1/chat/completions');
      assert.deepEqual(toB.query, {});
      assert.equal(toB.headers['x-api-key'], 'key-b');
      assert.equal(toB.headers.authorization, undefined);
      assert.equal(toB.bodyText, RAW_CHAT_BODY, 'an unchanged body is forwarded byte for byte');
    }
  });

  test('the upstream response body is relayed byte for byte, with its status', async () => {
    const oddBody =
      '{"id":"chatcmpl-raw",  "object":"chat.completion","choices":[ ],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}';
    for (const proxyUrl of cluster.proxyUrls) {
      for (const status of [200, 400]) {
        const response = await httpRequest(`${proxyUrl}/v1/chat/completions`, {
          headers: { 'x-mock-scenario': `status:${status}:${oddBody}` },
          body: CHAT_BODY,
        });
        assert.equal(response.status, status);
        assert.equal(response.text, oddBody);
        assert.match(headerOf(response, 'content-type'), /^application\/json/);
      }
    }
  });

  test('chat answers carry the mock usage; embeddings go to the provider path', async () => {
    for (const proxyUrl of cluster.proxyUrls) {
      const chat = await httpRequest(`${proxyUrl}/v1/chat/completions`, { body: CHAT_BODY });
      assert.equal(chat.status, 200);
      const chatBody = chat.json as { object?: unknown; usage?: unknown };
      assert.equal(chatBody.object, 'chat.completion');
      assert.deepEqual(chatBody.usage, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });

      mockA.clear();
      const embeddings = await httpRequest(`${proxyUrl}/v1/embeddings`, {
        body: { model: 'client-model', input: ['one', 'two'] },
      });
      assert.equal(embeddings.status, 200, embeddings.text);
      const embeddingsBody = embeddings.json as { object?: unknown; data?: unknown[]; model?: unknown };
      assert.equal(embeddingsBody.object, 'list');
      assert.equal(embeddingsBody.data?.length, 2);
      assert.equal(embeddingsBody.model, 'text-embedding-3-small', 'options.model replaced the client model');
      const [received] = mockA.requests();
      assert.equal(received?.path, '/v1/embeddings');
      assert.deepEqual(received?.json, { model: 'text-embedding-3-small', input: ['one', 'two'] });
      assert.equal(received?.headers.authorization, 'Bearer key-emb');
    }
  });

  test('a stream is relayed chunk by chunk: each chunk arrives before the mock sends the next', {
    timeout: 30_000,
  }, async () => {
    for (const proxyUrl of cluster.proxyUrls) {
      const response = await request(`${proxyUrl}/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-scenario': 'gated-stream:3' },
        body: JSON.stringify({ ...CHAT_BODY, stream: true }),
      });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/event-stream/);
      const events = readSseData(response.body);
      // The mock holds chunk N+1 until released, so reading chunk N here proves it was not buffered.
      const contents: string[] = [];
      for (let chunk = 0; chunk < 3; chunk++) {
        const next = await events.next();
        assert.equal(next.done, false, `chunk ${chunk + 1} arrived`);
        const parsed = JSON.parse(String(next.value)) as { choices: Array<{ delta: { content?: string } }> };
        contents.push(parsed.choices[0]?.delta.content ?? '');
        mockA.releaseChunk();
      }
      assert.deepEqual(contents, ['Hello', ' from', ' the']);
      const rest: string[] = [];
      for await (const data of events) rest.push(data);
      assert.equal(rest.at(-1), '[DONE]');
      const usageChunk = JSON.parse(rest.at(-2) ?? '{}') as { usage?: unknown };
      assert.deepEqual(usageChunk.usage, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
    }
  });

  test('a streaming request asks the upstream for usage (§4.4 stream_options)', { timeout: 30_000 }, async () => {
    mockA.clear();
    const response = await request(`${cluster.proxyUrls[0]}/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...CHAT_BODY, stream: true }),
    });
    const events: string[] = [];
    for await (const data of readSseData(response.body)) events.push(data);
    assert.equal(events.at(-1), '[DONE]');
    const [received] = mockA.requests();
    assert.ok(received, 'the mock got the request');
    assert.deepEqual((received.json as { stream_options?: unknown }).stream_options, { include_usage: true });
  });
});
