import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { type AdminClient, admin } from './support/admin-client.js';
import { aiInstance, aiRoute } from './support/ai-routes.js';
import { httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { type SwitchboardNode, startSwitchboard } from './support/switchboard.js';

/**
 * Client protocols through a running gateway process (ai-proxy-multi.md §4.6, §5.2, §6.3, §8): an
 * Anthropic Messages client on an OpenAI-style upstream (both ways, streaming included), passthrough,
 * a stream cap, and the access log line on stdout with its LLM fields and without credentials.
 */

const UPSTREAM_KEY = 'sk-e2e-upstream-5e1d';

interface SseEvent {
  readonly type: string;
  readonly data: string;
}

function sseEventsOf(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const type = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      return { type, data };
    });
}

describe('AI protocols through the gateway', () => {
  let node: SwitchboardNode;
  let api: AdminClient;
  let mock: MockLlm;

  before(async () => {
    [node, mock] = await Promise.all([startSwitchboard({ role: 'traditional' }), startMockLlm({ name: 'proto' })]);
    api = admin(node.adminUrl ?? '', node.adminKey);
    const instance = aiInstance({
      name: 'mock',
      endpoint: mock.url,
      auth: { header: { Authorization: `Bearer ${UPSTREAM_KEY}` } },
    });
    const routes: Record<string, object> = {
      anthropic: aiRoute({ uri: '/claude/*', instances: [instance] }),
      pass: aiRoute({ uri: '/pass/*', instances: [instance] }),
      capped: aiRoute({ uri: '/capped', instances: [instance], pluginFields: { max_stream_duration_ms: 300 } }),
    };
    for (const [id, route] of Object.entries(routes)) {
      const put = await api.put(`/routes/${id}`, route);
      assert.equal(put.status, 201, put.text);
    }
    await pollUntil(
      async () => (await httpRequest(`${node.proxyUrl}/capped`, { body: { messages: [] } })).status === 200,
      {
        timeoutMs: 10_000,
        description: 'the routes on the proxy',
      },
    );
  });
  after(async () => {
    await Promise.all([node?.stop(), mock?.close()]);
  });

  test('an Anthropic Messages client gets Anthropic answers from an OpenAI-style upstream', async () => {
    mock.clear();
    const response = await httpRequest(`${node.proxyUrl}/claude/v1/messages`, {
      headers: { 'x-api-key': 'sk-ant-client', 'anthropic-version': '2023-06-01' },
      body: { model: 'claude-x', max_tokens: 32, messages: [{ role: 'user', content: 'Say hello.' }] },
    });
    assert.equal(response.status, 200, response.text);
    const message = response.json as { type: string; content: { type: string; text: string }[]; usage: unknown };
    assert.equal(message.type, 'message');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello from the mock LLM.' }]);
    assert.deepEqual(message.usage, { input_tokens: 12, output_tokens: 6 });
    const [seen] = mock.requests();
    assert.deepEqual(seen?.json, {
      model: 'claude-x',
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_completion_tokens: 32,
    });
    assert.equal(seen?.headers['x-api-key'], undefined);
  });

  test('an Anthropic Messages client streams Anthropic events, usage included', async () => {
    const response = await httpRequest(`${node.proxyUrl}/claude/v1/messages`, {
      body: { model: 'claude-x', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'Say hello.' }] },
    });
    assert.equal(response.status, 200);
    const events = sseEventsOf(response.text);
    assert.equal(events[0]?.type, 'message_start');
    assert.equal(events.at(-1)?.type, 'message_stop');
    const text = events
      .filter((event) => event.type === 'content_block_delta')
      .map((event) => (JSON.parse(event.data) as { delta: { text: string } }).delta.text)
      .join('');
    assert.equal(text, 'Hello from the mock LLM.');
    const delta = events.find((event) => event.type === 'message_delta');
    assert.deepEqual((JSON.parse(delta?.data ?? '{}') as { usage: unknown }).usage, {
      input_tokens: 12,
      output_tokens: 6,
    });
  });

  test('passthrough keeps the client path and query', async () => {
    mock.clear();
    const response = await httpRequest(`${node.proxyUrl}/pass/v1/custom?tag=a`, { body: { prompt: 'x' } });
    assert.equal(response.status, 200);
    assert.equal((response.json as { path: string }).path, '/pass/v1/custom');
    assert.deepEqual(mock.requests()[0]?.query, { tag: 'a' });
  });

  test('a stalled stream is ended at max_stream_duration_ms with an error event and no [DONE]', async () => {
    const response = await httpRequest(`${node.proxyUrl}/capped`, {
      headers: { 'x-mock-scenario': 'stall:2' },
      body: { messages: [{ role: 'user', content: 'x' }], stream: true },
    });
    assert.equal(response.status, 200);
    const events = sseEventsOf(response.text);
    assert.equal(events.length, 3);
    assert.deepEqual(JSON.parse(events[2]?.data ?? '{}'), {
      error: { message: 'max_stream_duration_ms exceeded', type: 'server_error', code: 'SB_ERR_STREAM_TOO_LONG' },
    });
    assert.ok(!response.text.includes('[DONE]'));
  });

  test('the access log line on stdout carries the LLM fields and no credential', async () => {
    const line = await pollUntil(
      () => {
        const found = node
          .logs()
          .split('\n')
          .filter((text) => text.includes('"path":"/claude/v1/messages"'))
          .at(0);
        return found === undefined ? undefined : (JSON.parse(found) as Record<string, unknown>);
      },
      { timeoutMs: 5000, description: 'the access line (flushed within a second)' },
    );
    assert.equal(line.request_type, 'ai_chat');
    assert.equal(line.request_llm_model, 'claude-x');
    assert.equal(line.picked_ai_instance_name, 'mock');
    assert.equal(line.ai_attempts, 1);
    assert.equal(line.llm_prompt_tokens, 12);
    assert.equal(line.llm_completion_tokens, 6);
    assert.ok(!node.logs().includes(UPSTREAM_KEY), 'the upstream key is in the logs');
    assert.ok(!node.logs().includes('sk-ant-client'), 'the client key is in the logs');
  });
});
