import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createAiProxyMultiPlugin } from '../src/plugins/ai-proxy-multi/plugin.js';
import { anthropicProvider } from '../src/plugins/ai-proxy-multi/providers/anthropic.js';
import type { ProviderDescriptor } from '../src/plugins/ai-proxy-multi/providers/provider.js';
import { encodeEventStreamMessage } from '../src/upstream/aws-eventstream.js';
import { createDispatcherRegistry } from '../src/upstream/dispatchers.js';
import {
  type AiGateway,
  accessContext,
  defaultedMultiConf,
  jsonAnswer,
  type ScriptedUpstream,
  send,
  singleInstanceRoute,
  sseAnswer,
  sseData,
  sseEvents,
  sseNamed,
  startAiGateway,
  startScriptedUpstream,
} from './ai-protocol-harness.js';

/**
 * Client protocols through the real pipeline (ai-proxy-multi.md §4.6, §5.2, §5.5, §6): native relays,
 * anthropic-messages ⇄ openai-chat conversion with streaming, the Responses API, passthrough,
 * embeddings → vertex predict, and the 400 when a provider cannot serve a protocol.
 */

const CHAT_COMPLETION = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
};

const ANTHROPIC_BODY = {
  model: 'claude-client',
  max_tokens: 64,
  system: 'be brief',
  messages: [{ role: 'user', content: 'Say hello.' }],
};

describe('protocols through the gateway', () => {
  let upstream: ScriptedUpstream;
  let gateway: AiGateway;

  before(async () => {
    upstream = await startScriptedUpstream();
    gateway = await startAiGateway({
      converted: singleInstanceRoute('/converted/*', {
        provider: 'openai-compatible',
        auth: { header: { Authorization: 'Bearer upstream-key' } },
        override: { endpoint: upstream.origin },
      }),
      anthropic: singleInstanceRoute('/anthropic/*', {
        provider: 'anthropic',
        override: { endpoint: upstream.origin },
      }),
      openai: singleInstanceRoute('/openai/*', { provider: 'openai', override: { endpoint: upstream.origin } }),
      streamOption: singleInstanceRoute('/stream-option', {
        provider: 'openai-compatible',
        options: { stream: true },
        override: { endpoint: upstream.origin },
      }),
      passthrough: singleInstanceRoute('/pass/*', {
        provider: 'openai-compatible',
        auth: { query: { key: 'configured' } },
        override: { endpoint: `${upstream.origin}?tier=endpoint&shared=endpoint` },
      }),
      passthroughPath: singleInstanceRoute('/fixed/*', {
        provider: 'openai-compatible',
        override: { endpoint: `${upstream.origin}/fixed/target` },
      }),
      bedrock: singleInstanceRoute(
        '/bedrock/*',
        {
          provider: 'bedrock',
          provider_conf: { region: 'us-east-1' },
          auth: { aws: { access_key_id: 'AKIDEXAMPLE', secret_access_key: 'secret' } },
          options: { model: 'amazon.nova-lite-v1:0' },
          override: { endpoint: upstream.origin },
        },
        { logging: { summaries: true, payloads: true } },
      ),
      vertex: singleInstanceRoute('/vertex/*', {
        provider: 'vertex-ai',
        auth: { header: { Authorization: 'Bearer static-token' } },
        override: { endpoint: `${upstream.origin}/v1/projects/p/locations/l/publishers/google/models/m:predict` },
      }),
    });
  });
  beforeEach(() => {
    upstream.reset();
    gateway.clearLogs();
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('an Anthropic client on an OpenAI-style instance: request and answer converted, key headers mapped', async () => {
    upstream.respondWith(jsonAnswer(CHAT_COMPLETION, 200, { 'x-request-id': 'req-7' }));
    const answer = await send(`${gateway.url}/converted/v1/messages`, {
      headers: { 'x-api-key': 'client-anthropic-key', 'anthropic-version': '2023-06-01' },
      body: ANTHROPIC_BODY,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-request-id'], 'req-7');
    assert.deepEqual(answer.json(), {
      id: 'chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 11, output_tokens: 3 },
    });
    const [seen] = upstream.received;
    assert.equal(seen?.url, '/v1/chat/completions');
    assert.equal(seen?.headers.authorization, 'Bearer upstream-key', 'auth.header wins; the client key never leaves');
    assert.equal(seen?.headers['x-api-key'], undefined);
    assert.equal(seen?.headers['anthropic-version'], undefined);
    assert.deepEqual(upstream.json(), {
      model: 'claude-client',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'Say hello.' },
      ],
      max_completion_tokens: 64,
    });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_chat');
    assert.equal(line?.request_llm_model, 'claude-client');
    assert.equal(line?.llm_prompt_tokens, 11);
    assert.equal(line?.llm_completion_tokens, 3);
  });

  it('an Anthropic client streaming through an OpenAI-style instance gets Anthropic events', async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      sseData({ id: 'c1', model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });
    upstream.respondWith(
      sseAnswer([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({}, 'stop'),
        sseData({ id: 'c1', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
        'data: [DONE]\n\n',
      ]),
    );
    const answer = await send(`${gateway.url}/converted/v1/messages`, { body: { ...ANTHROPIC_BODY, stream: true } });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /text\/event-stream/);
    const events = sseEvents(answer.text);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    const text = events
      .filter((event) => event.type === 'content_block_delta')
      .map((event) => (event.data as { delta: { text: string } }).delta.text)
      .join('');
    assert.equal(text, 'Hello');
    assert.deepEqual((events[5]?.data as { usage?: unknown } | undefined)?.usage, {
      input_tokens: 5,
      output_tokens: 2,
    });
    assert.deepEqual(upstream.json().stream_options, { include_usage: true });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_stream');
    assert.equal(line?.llm_prompt_tokens, 5);
    assert.equal(line?.llm_completion_tokens, 2);
  });

  it('an Anthropic client on anthropic goes native: bytes verbatim, events relayed raw, usage read', async () => {
    const events = [
      sseNamed('message_start', { message: { id: 'msg_1', usage: { input_tokens: 9, output_tokens: 1 } } }),
      sseNamed('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
      sseNamed('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } }),
      sseNamed('message_stop'),
    ];
    upstream.respondWith(sseAnswer(events));
    const raw = JSON.stringify({ ...ANTHROPIC_BODY, stream: true }).replace('{', '{ ');
    const answer = await send(`${gateway.url}/anthropic/v1/messages`, {
      headers: { 'x-api-key': 'client-key', 'anthropic-version': '2023-06-01' },
      body: raw,
    });
    assert.equal(answer.text, events.join(''));
    const [seen] = upstream.received;
    assert.equal(seen?.url, '/v1/messages');
    assert.equal(seen?.body, raw, 'nothing to shape: the client bytes go out unchanged');
    assert.equal(seen?.headers['x-api-key'], 'client-key');
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.llm_prompt_tokens, 9);
    assert.equal(line?.llm_completion_tokens, 4);
  });

  it('options.stream makes a non-streaming client get the SSE stream; request_type stays ai_chat (Q11)', async () => {
    const events = [sseData({ choices: [{ index: 0, delta: { content: 'a' } }] }), 'data: [DONE]\n\n'];
    upstream.respondWith(sseAnswer(events));
    const answer = await send(`${gateway.url}/stream-option`, { body: { messages: [{ role: 'user', content: 'x' }] } });
    assert.equal(answer.text, events.join(''));
    assert.deepEqual(upstream.json(), { messages: [{ role: 'user', content: 'x' }], stream: true });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_chat');
  });

  it('the Responses API goes native on openai, without stream_options, usage from response.completed', async () => {
    upstream.respondWith(
      sseAnswer([
        sseNamed('response.created', { response: { id: 'r1' } }),
        sseNamed('response.output_text.delta', { delta: 'Hi' }),
        sseNamed('response.completed', {
          response: { id: 'r1', usage: { input_tokens: 8, output_tokens: 2, total_tokens: 10 } },
        }),
      ]),
    );
    const answer = await send(`${gateway.url}/openai/v1/responses`, {
      body: { model: 'gpt-4o', input: 'hi', stream: true },
    });
    assert.equal(answer.status, 200);
    assert.equal(sseEvents(answer.text).at(-1)?.type, 'response.completed');
    assert.equal(upstream.received[0]?.url, '/v1/responses');
    assert.deepEqual(upstream.json(), { model: 'gpt-4o', input: 'hi', stream: true });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_stream');
    assert.equal(line?.llm_prompt_tokens, 8);
    assert.equal(line?.llm_completion_tokens, 2);
  });

  it('the Responses API without streaming reads input/output tokens', async () => {
    upstream.respondWith(
      jsonAnswer({ id: 'r2', output: [], usage: { input_tokens: 4, output_tokens: 6, total_tokens: 10 } }),
    );
    const answer = await send(`${gateway.url}/openai/v1/responses`, { body: { model: 'gpt-4o', input: 'hi' } });
    assert.equal(answer.status, 200);
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_chat');
    assert.equal(line?.llm_prompt_tokens, 4);
    assert.equal(line?.llm_completion_tokens, 6);
  });

  it('passthrough uses the client path, method and query; auth.query always wins (§4.2, §5.5)', async () => {
    upstream.respondWith(jsonAnswer({ data: [] }));
    const body = '{"custom": "shape"}';
    const answer = await send(`${gateway.url}/pass/v1/fine_tuning/jobs?limit=5&key=from-client&shared=client`, {
      method: 'PUT',
      body,
    });
    assert.equal(answer.status, 200);
    const [seen] = upstream.received;
    assert.equal(seen?.method, 'PUT');
    const url = new URL(seen?.url ?? '', 'http://x');
    assert.equal(url.pathname, '/pass/v1/fine_tuning/jobs');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      key: 'configured',
      tier: 'endpoint',
      shared: 'client',
      limit: '5',
    });
    assert.equal(seen?.body, body);
    assert.equal(seen?.headers['content-type'], 'application/json');
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_chat');
    assert.equal(line?.llm_prompt_tokens, 0);
  });

  it('passthrough keeps an endpoint path and forwards a JSON array verbatim', async () => {
    const answer = await send(`${gateway.url}/fixed/anything`, { body: '[{"a":1}]' });
    assert.equal(answer.status, 200);
    assert.equal(upstream.received[0]?.url, '/fixed/target');
    assert.equal(upstream.received[0]?.body, '[{"a":1}]');
    await gateway.waitForAccessLines(1);
  });

  it('embeddings on vertex-ai are converted to :predict and back', async () => {
    upstream.respondWith(
      jsonAnswer({
        predictions: [
          { embeddings: { values: [0.5, 0.25], statistics: { token_count: 2 } } },
          { embeddings: { values: [1], statistics: { token_count: 3 } } },
        ],
      }),
    );
    const answer = await send(`${gateway.url}/vertex/v1/embeddings`, {
      body: { model: 'text-embedding-005', input: ['one', 'two'] },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json(), {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, 0.25] },
        { object: 'embedding', index: 1, embedding: [1] },
      ],
      model: 'text-embedding-005',
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
    assert.equal(upstream.received[0]?.url, '/v1/projects/p/locations/l/publishers/google/models/m:predict');
    assert.deepEqual(upstream.json(), { instances: [{ content: 'one' }, { content: 'two' }] });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.llm_prompt_tokens, 5);
  });

  it('a Bedrock ConverseStream is relayed frame for frame while usage and text are read from it', async () => {
    const frame = (type: string, payload: object) =>
      encodeEventStreamMessage({
        headers: new Map([
          [':event-type', { type: 'string', value: type }],
          [':message-type', { type: 'string', value: 'event' }],
          [':content-type', { type: 'string', value: 'application/json' }],
        ]),
        payload: Buffer.from(JSON.stringify(payload)),
      });
    const frames = Buffer.concat([
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hel' } }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' } }),
      frame('messageStop', { stopReason: 'end_turn' }),
      frame('metadata', { usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 }, metrics: {} }),
    ]);
    upstream.respondWith(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      // Frames split at arbitrary byte boundaries, as TCP may deliver them.
      for (let offset = 0; offset < frames.length; offset += 37) {
        res.write(frames.subarray(offset, offset + 37));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(`${gateway.url}/bedrock/model/x/converse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent: false,
      });
      req.on('error', reject);
      req.on('response', async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        resolve(Buffer.concat(chunks));
      });
      req.end(JSON.stringify({ stream: true, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    });
    assert.ok(answer.equals(frames), 'the frames reach the client byte for byte');
    assert.equal(upstream.received[0]?.url, '/model/amazon.nova-lite-v1%3A0/converse-stream');
    assert.equal(upstream.json().stream, undefined, 'Converse has no stream field');
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_stream');
    assert.equal(line?.llm_prompt_tokens, 7);
    assert.equal(line?.llm_completion_tokens, 2);
    assert.deepEqual(line?.llm_response_text, { content: 'hello' });
  });

  const unsupported: { name: string; path: string; body: object; message: string }[] = [
    {
      name: 'Responses API on anthropic',
      path: '/anthropic/v1/responses',
      body: { input: 'hi' },
      message:
        'provider anthropic does not support openai-responses protocol (supported: openai-chat, anthropic-messages)',
    },
    {
      name: 'embeddings on anthropic',
      path: '/anthropic/v1/embeddings',
      body: { input: 'hi' },
      message:
        'provider anthropic does not support openai-embeddings protocol (supported: openai-chat, anthropic-messages)',
    },
  ];
  for (const row of unsupported) {
    it(`${row.name} → 400 naming the supported protocols`, async () => {
      const answer = await send(`${gateway.url}${row.path}`, { body: row.body });
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.json(), {
        error: { message: row.message, type: 'invalid_request_error', code: 'SB_ERR_BAD_REQUEST' },
      });
      assert.equal(upstream.received.length, 0);
      const [line] = await gateway.waitForAccessLines(1);
      assert.equal(line?.status, 400);
    });
  }
});

describe('an OpenAI client on an instance that speaks only anthropic-messages', () => {
  let upstream: ScriptedUpstream;
  let server: http.Server;
  let url: string;
  const registry = createDispatcherRegistry();

  before(async () => {
    upstream = await startScriptedUpstream();
    const plugin = createAiProxyMultiPlugin({ random: () => 0, now: () => performance.now(), wallClock: () => 1e12 });
    const conf = defaultedMultiConf({
      instances: [
        { name: 'claude', provider: 'anthropic', weight: 1, auth: {}, override: { endpoint: upstream.origin } },
      ],
    });
    const prepared = plugin.prepare(conf, {
      holderKey: '/apisix/routes/1',
      logger: pino({ level: 'silent' }),
      dispatchers: registry,
    });
    const instance = prepared.instances.get('claude');
    assert.ok(instance !== undefined);
    // No shipped provider speaks only Anthropic Messages: narrow anthropic's descriptor to that.
    const anthropicOnly: ProviderDescriptor = { ...anthropicProvider, paths: { 'anthropic-messages': '/v1/messages' } };
    const narrowed = { ...prepared, instances: new Map([['claude', { ...instance, provider: anthropicOnly }]]) };
    server = http.createServer((req, res) => {
      void plugin.access?.(accessContext(req, res), narrowed);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => upstream.reset());
  after(async () => {
    server.closeAllConnections();
    server.close();
    await registry.close();
    await upstream.close();
  });

  it('converts the chat request to Messages and the answer back to a chat completion', async () => {
    upstream.respondWith(
      jsonAnswer({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [{ type: 'text', text: 'Hi!' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 6, output_tokens: 2 },
      }),
    );
    const answer = await send(`${url}/v1/chat/completions`, {
      headers: { authorization: 'Bearer sk-client' },
      body: {
        model: 'claude-x',
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'hi' },
        ],
      },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json(), {
      id: 'msg_1',
      object: 'chat.completion',
      created: 1e9,
      model: 'claude-x',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 6, completion_tokens: 2, total_tokens: 8 },
    });
    const [seen] = upstream.received;
    assert.equal(seen?.url, '/v1/messages');
    assert.equal(seen?.headers['x-api-key'], 'sk-client');
    assert.equal(seen?.headers.authorization, undefined);
    assert.equal(seen?.headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(upstream.json(), {
      model: 'claude-x',
      max_tokens: 4096,
      system: 's',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('streams Anthropic events back as chat chunks ending with [DONE]', async () => {
    upstream.respondWith(
      sseAnswer([
        sseNamed('message_start', { message: { id: 'msg_2', model: 'claude-x', usage: { input_tokens: 3 } } }),
        sseNamed('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        sseNamed('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hey' } }),
        sseNamed('content_block_stop', { index: 0 }),
        sseNamed('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }),
        sseNamed('message_stop'),
      ]),
    );
    const answer = await send(`${url}/v1/chat/completions`, {
      body: {
        model: 'claude-x',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      },
    });
    const events = sseEvents(answer.text);
    assert.equal(events.at(-1)?.data, '[DONE]');
    const chunks = events.slice(0, -1).map((event) => event.data as Record<string, unknown>);
    const content = chunks
      .flatMap((chunk) => chunk.choices as { delta: { content?: string } }[])
      .map((choice) => choice.delta.content ?? '')
      .join('');
    assert.equal(content, 'Hey');
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
    assert.equal(upstream.json().stream, true);
    assert.equal(upstream.json().stream_options, undefined, 'Anthropic has no stream_options');
  });
});
