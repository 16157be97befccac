import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { type AdminClient, admin } from './support/admin-client.js';
import { aiInstance, aiRoute } from './support/ai-routes.js';
import { httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { type SwitchboardNode, startSwitchboard } from './support/switchboard.js';

/**
 * The official `openai` SDK as a real client of a running gateway (ai-proxy-multi.md §5, §6;
 * DECISIONS "gateway-made errors are OpenAI-shaped so OpenAI SDKs surface them"): chat, streaming with
 * usage, embeddings, and every error status as the SDK's typed error.
 */
describe('the openai SDK against the gateway', () => {
  let node: SwitchboardNode;
  let api: AdminClient;
  let mock: MockLlm;
  let client: OpenAI;

  before(async () => {
    [node, mock] = await Promise.all([startSwitchboard({ role: 'traditional' }), startMockLlm({ name: 'sdk' })]);
    api = admin(node.adminUrl ?? '', node.adminKey);
    const routes: Record<string, object> = {
      chat: aiRoute({
        uri: '/v1/chat/completions',
        instances: [
          aiInstance({ name: 'chat', endpoint: mock.url, auth: { header: { Authorization: 'Bearer upstream' } } }),
        ],
        pluginFields: { timeout: 300 },
      }),
      embeddings: aiRoute({ uri: '/v1/embeddings', instances: [aiInstance({ name: 'emb', endpoint: mock.url })] }),
      // A provider without embeddings: the gateway itself answers 400.
      noEmbeddings: aiRoute({
        uri: '/other/v1/embeddings',
        instances: [{ name: 'claude', provider: 'anthropic', weight: 1, auth: {}, override: { endpoint: mock.url } }],
      }),
    };
    for (const [id, route] of Object.entries(routes)) {
      const put = await api.put(`/routes/${id}`, route);
      assert.equal(put.status, 201, put.text);
    }
    await pollUntil(
      async () => (await httpRequest(`${node.proxyUrl}/other/v1/embeddings`, { body: { input: 'x' } })).status === 400,
      { timeoutMs: 10_000, description: 'the routes on the proxy' },
    );
    // No retries: each status must surface as it was answered.
    client = new OpenAI({ apiKey: 'sk-client', baseURL: `${node.proxyUrl}/v1`, maxRetries: 0 });
  });
  after(async () => {
    await Promise.all([node?.stop(), mock?.close()]);
  });

  test('chat completion', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'Hello from the mock LLM.');
    assert.deepEqual(completion.usage, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
    const [seen] = mock.requests().slice(-1);
    assert.equal(seen?.headers.authorization, 'Bearer upstream', 'the instance key replaces the client key');
  });

  test('streaming chat: every delta, the finish reason and the usage chunk the gateway asked for', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Say hello.' }],
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Hello from the mock LLM.');
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
    const [seen] = mock.requests().slice(-1);
    assert.deepEqual((seen?.json as { stream_options?: unknown } | undefined)?.stream_options, { include_usage: true });
  });

  test('embeddings', async () => {
    const result = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one', 'two'],
      encoding_format: 'float',
    });
    assert.equal(result.data.length, 2);
    assert.equal(result.data[1]?.index, 1);
    assert.ok(Array.isArray(result.data[0]?.embedding));
  });

  const scenarioOf = (scenario: string) => ({ headers: { 'x-mock-scenario': scenario } });
  const chat = (scenario: string) =>
    client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
      scenarioOf(scenario),
    );

  const upstreamErrors: {
    scenario: string;
    status: number;
    type: new (...args: never[]) => InstanceType<typeof OpenAI.APIError>;
  }[] = [
    { scenario: 'status:400', status: 400, type: OpenAI.BadRequestError },
    { scenario: 'status:401', status: 401, type: OpenAI.AuthenticationError },
    { scenario: 'status:404', status: 404, type: OpenAI.NotFoundError },
    { scenario: 'status:429', status: 429, type: OpenAI.RateLimitError },
    { scenario: 'status:500', status: 500, type: OpenAI.InternalServerError },
    { scenario: 'status:503', status: 503, type: OpenAI.InternalServerError },
  ];
  for (const row of upstreamErrors) {
    test(`an upstream ${row.status} surfaces as ${row.type.name}`, async () => {
      await assert.rejects(chat(row.scenario), (error: unknown) => {
        assert.ok(error instanceof row.type, String(error));
        assert.equal(error.status, row.status);
        return true;
      });
    });
  }

  test('a 429 keeps the upstream Retry-After for the SDK', async () => {
    await assert.rejects(chat('status:429'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.ok(error.headers.get('retry-after') !== null);
      return true;
    });
  });

  test('gateway-made errors are typed errors with the gateway message and code', async () => {
    await assert.rejects(chat('hang'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.InternalServerError, String(error));
      assert.equal(error.status, 504);
      assert.equal(error.code, 'SB_ERR_UPSTREAM_TIMEOUT');
      assert.match(error.message, /failed to send request to LLM server: timeout/);
      return true;
    });
    const other = new OpenAI({ apiKey: 'sk-client', baseURL: `${node.proxyUrl}/other/v1`, maxRetries: 0 });
    await assert.rejects(other.embeddings.create({ model: 'm', input: 'x' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.code, 'SB_ERR_BAD_REQUEST');
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /provider anthropic does not support openai-embeddings protocol/);
      return true;
    });
  });

  test('a stream broken after the first chunk makes the SDK throw instead of ending quietly', async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true },
      scenarioOf('cut:2'),
    );
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.match(error.message, /failed to read response from LLM server/);
        return true;
      },
    );
    assert.equal(text, 'Hello from', 'the chunks before the break arrived');
  });
});
