import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SwitchboardError } from '@switchboard/core';
import { anthropicMessagesToOpenAiChat } from '../src/plugins/ai-proxy-multi/convert/anthropic-messages-to-openai-chat.js';
import type { ProtocolConverter } from '../src/plugins/ai-proxy-multi/convert/converter.js';
import { openAiChatToAnthropicMessages } from '../src/plugins/ai-proxy-multi/convert/openai-chat-to-anthropic-messages.js';
import { openAiEmbeddingsToVertexPredict } from '../src/plugins/ai-proxy-multi/convert/openai-embeddings-to-vertex-predict.js';
import { routeProtocol } from '../src/plugins/ai-proxy-multi/convert/registry.js';
import { ToolNameMap } from '../src/plugins/ai-proxy-multi/convert/tool-names.js';
import type { JsonObject, ProtocolId } from '../src/plugins/ai-proxy-multi/protocols/protocol.js';
import { createSseEventSplitter, type SseEvent } from '../src/plugins/ai-proxy-multi/sse/sse-event-splitter.js';

/** Protocol converters (ai-proxy-multi.md §4.3, §4.6): pure translations, one converter per request. */

const CREATED_AT = 1_700_000_000;

function converterOf(descriptor: { create(context: { createdAt: number }): ProtocolConverter }): ProtocolConverter {
  return descriptor.create({ createdAt: CREATED_AT });
}

function convertedRequest(converter: ProtocolConverter, body: JsonObject): JsonObject {
  const converted = converter.convertRequest(body);
  assert.ok(!(converted instanceof SwitchboardError), converted instanceof SwitchboardError ? converted.message : '');
  return converted;
}

/** Parses what a converter wrote back into SSE events (type + parsed JSON data). */
function parseSse(text: string): { type: string; data: unknown }[] {
  const events: SseEvent[] = [];
  createSseEventSplitter({ maxPendingChars: 1 << 20, onEvent: (event) => events.push(event) }).push(Buffer.from(text));
  return events.map((event) => ({
    type: event.type,
    data: event.data === '[DONE]' ? '[DONE]' : JSON.parse(event.data),
  }));
}

/** Feeds events through a converter's stream state, the way the relay does. */
function convertStream(converter: ProtocolConverter, events: readonly SseEvent[]): { type: string; data: unknown }[] {
  let out = '';
  for (const event of events) out += converter.convertStreamEvent(event);
  out += converter.endStream();
  return parseSse(out);
}

const data = (payload: unknown): SseEvent => ({ type: 'message', data: JSON.stringify(payload) });
const named = (type: string, payload: unknown): SseEvent => ({
  type,
  data: JSON.stringify({ type, ...(payload as object) }),
});

describe('routeProtocol (§4.6)', () => {
  const table: { client: ProtocolId; speaks: ProtocolId[]; target: ProtocolId | undefined; converted: boolean }[] = [
    { client: 'openai-chat', speaks: ['openai-chat', 'anthropic-messages'], target: 'openai-chat', converted: false },
    {
      client: 'anthropic-messages',
      speaks: ['openai-chat', 'anthropic-messages'],
      target: 'anthropic-messages',
      converted: false,
    },
    { client: 'anthropic-messages', speaks: ['openai-chat'], target: 'openai-chat', converted: true },
    { client: 'openai-chat', speaks: ['anthropic-messages'], target: 'anthropic-messages', converted: true },
    {
      client: 'openai-embeddings',
      speaks: ['openai-chat', 'vertex-predict'],
      target: 'vertex-predict',
      converted: true,
    },
    { client: 'passthrough', speaks: ['bedrock-converse'], target: 'passthrough', converted: false },
    { client: 'openai-responses', speaks: ['openai-chat', 'anthropic-messages'], target: undefined, converted: false },
    { client: 'bedrock-converse', speaks: ['openai-chat'], target: undefined, converted: false },
    { client: 'openai-embeddings', speaks: ['openai-chat'], target: undefined, converted: false },
  ];
  for (const row of table) {
    it(`${row.client} to [${row.speaks.join(', ')}] → ${row.target ?? 'none'}`, () => {
      const route = routeProtocol(row.client, row.speaks);
      assert.equal(route?.target, row.target);
      assert.equal(route?.converter !== undefined, row.converted);
    });
  }
});

describe('ToolNameMap', () => {
  it('keeps valid names and maps cleaned ones back', () => {
    const names = new ToolNameMap();
    assert.equal(names.toTarget('get_weather-2'), 'get_weather-2');
    const dotted = names.toTarget('web.search');
    assert.match(dotted, /^web_search_[0-9a-f]{8}$/);
    assert.equal(names.toClient(dotted), 'web.search');
    const long = names.toTarget('x'.repeat(100));
    assert.ok(long.length <= 64 && /^[a-zA-Z0-9_-]+$/.test(long));
    assert.equal(names.toClient(long), 'x'.repeat(100));
    assert.notEqual(names.toTarget('a.b'), names.toTarget('a b'), 'the hash keeps cleaned names apart');
  });
});

describe('anthropic-messages-to-openai-chat: request', () => {
  it('translates every whitelisted field, tools and content blocks', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const toolName = new ToolNameMap().toTarget('get.weather');
    const body = convertedRequest(converter, {
      model: 'claude-x',
      max_tokens: 100,
      system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
      temperature: 0.3,
      top_p: 0.9,
      top_k: 5,
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'u1' },
      service_tier: 'standard_only',
      thinking: { type: 'enabled', budget_tokens: 4000 },
      output_format: { type: 'json_schema', schema: { type: 'object' } },
      tools: [
        { name: 'get.weather', description: 'weather', input_schema: { type: 'object', properties: {} } },
        { type: 'web_search_20250305', name: 'web_search' },
      ],
      tool_choice: { type: 'tool', name: 'get.weather', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'checking' },
            { type: 'tool_use', id: 't1', name: 'get.weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'sunny' }] },
            { type: 'text', text: 'thanks' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } },
          ],
        },
      ],
    });
    assert.deepEqual(body, {
      model: 'claude-x',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: 'checking',
          tool_calls: [{ id: 't1', type: 'function', function: { name: toolName, arguments: '{"city":"Paris"}' } }],
        },
        // §4.6: tool results come before the other content of their turn.
        { role: 'tool', tool_call_id: 't1', content: 'sunny' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'thanks' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } },
          ],
        },
      ],
      max_completion_tokens: 100,
      temperature: 0.3,
      top_p: 0.9,
      stop: ['END'],
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: 'medium',
      tools: [
        {
          type: 'function',
          function: { name: toolName, description: 'weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      tool_choice: { type: 'function', function: { name: toolName } },
      parallel_tool_calls: false,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'output', schema: { type: 'object' }, strict: true },
      },
      user: 'u1',
      service_tier: 'default',
    });
  });

  const missing: { name: string; body: JsonObject }[] = [
    { name: 'no messages', body: { model: 'm' } },
    { name: 'empty messages', body: { messages: [] } },
    { name: 'messages not an array', body: { messages: 'hi' } },
  ];
  for (const row of missing) {
    it(`${row.name} → 400 missing messages`, () => {
      const result = converterOf(anthropicMessagesToOpenAiChat).convertRequest(row.body);
      assert.ok(result instanceof SwitchboardError);
      assert.equal(result.status, 400);
      assert.equal(result.message, 'missing messages');
    });
  }

  it('turns the Anthropic key into a bearer token and drops Anthropic SDK headers (§4.3)', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const headers: Record<string, string> = {
      'x-api-key': 'sk-ant',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'x',
      'x-stainless-os': 'Linux',
      'x-custom': 'kept',
    };
    converter.adjustHeaders(headers);
    assert.deepEqual(headers, { authorization: 'Bearer sk-ant', 'x-custom': 'kept' });
    const configured: Record<string, string> = { 'x-api-key': 'sk-ant', authorization: 'Bearer configured' };
    converter.adjustHeaders(configured);
    assert.deepEqual(configured, { authorization: 'Bearer configured' });
  });
});

describe('anthropic-messages-to-openai-chat: answers', () => {
  it('turns a chat completion into an Anthropic message, tool names mapped back', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const request = convertedRequest(converter, {
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ name: 'get.weather', input_schema: { type: 'object' } }],
    });
    const toolName = (request.tools as { function: { name: string } }[])[0]?.function.name;
    const message = converter.convertResponse(200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me check.',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: toolName, arguments: '{"city":"Oslo"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: 8 } },
    });
    assert.deepEqual(message, {
      id: 'chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'get.weather', input: { city: 'Oslo' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 5, cache_read_input_tokens: 8 },
    });
  });

  it('turns OpenAI errors into Anthropic errors typed by status', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const table: { status: number; type: string }[] = [
      { status: 400, type: 'invalid_request_error' },
      { status: 401, type: 'authentication_error' },
      { status: 429, type: 'rate_limit_error' },
      { status: 500, type: 'api_error' },
    ];
    for (const row of table) {
      assert.deepEqual(converter.convertResponse(row.status, { error: { message: 'nope', type: 'x', code: 'y' } }), {
        type: 'error',
        error: { type: row.type, message: 'nope' },
      });
    }
  });

  it('streams OpenAI chunks as Anthropic events: blocks, tool input, stop reason and usage', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const chunk = (delta: JsonObject, finish: string | null = null) =>
      data({ id: 'c1', model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });
    const events = convertStream(converter, [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({}, 'tool_calls'),
      data({ id: 'c1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } }),
      { type: 'message', data: '[DONE]' },
    ]);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    assert.deepEqual(events[1]?.data, {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    assert.deepEqual(events[3]?.data, {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'lo' },
    });
    assert.deepEqual(events[5]?.data, {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
    });
    assert.deepEqual(events[7]?.data, {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '1}' },
    });
    assert.deepEqual(events[9]?.data, {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 9, output_tokens: 4 },
    });
  });

  it('does not invent an ending for a stream cut before its finish reason', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const events = convertStream(converter, [
      data({ id: 'c1', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] }),
    ]);
    assert.deepEqual(
      events.map((event) => event.type),
      ['message_start', 'content_block_start', 'content_block_delta'],
    );
  });

  it('turns an in-band OpenAI error into an Anthropic error event', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    const events = convertStream(converter, [data({ error: { message: 'overloaded', type: 'server_error' } })]);
    assert.deepEqual(events, [
      { type: 'error', data: { type: 'error', error: { type: 'api_error', message: 'overloaded' } } },
    ]);
  });
});

describe('openai-chat-to-anthropic-messages: request', () => {
  it('moves system prompts, merges tool results into user turns and maps tools', () => {
    const converter = converterOf(openAiChatToAnthropicMessages);
    const body = convertedRequest(converter, {
      model: 'claude-x',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'developer', content: [{ type: 'text', text: 'no emojis' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'https://x/i.png' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } }],
        },
        { role: 'tool', tool_call_id: 't1', content: 'found' },
        { role: 'user', content: 'thanks' },
      ],
      max_completion_tokens: 50,
      stop: 'END',
      stream: true,
      stream_options: { include_usage: true },
      user: 'u1',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    assert.deepEqual(body, {
      model: 'claude-x',
      max_tokens: 50,
      system: 'be brief\n\nno emojis',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image', source: { type: 'url', url: 'https://x/i.png' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'a' } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'found' },
            { type: 'text', text: 'thanks' },
          ],
        },
      ],
      stop_sequences: ['END'],
      stream: true,
      tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      metadata: { user_id: 'u1' },
    });
  });

  it('defaults max_tokens, which Anthropic requires', () => {
    const body = convertedRequest(converterOf(openAiChatToAnthropicMessages), {
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(body.max_tokens, 4096);
  });

  it('turns a bearer token into x-api-key and names an API version', () => {
    const headers: Record<string, string> = { authorization: 'Bearer sk-1', 'openai-organization': 'o', 'x-a': 'b' };
    converterOf(openAiChatToAnthropicMessages).adjustHeaders(headers);
    assert.deepEqual(headers, { 'x-api-key': 'sk-1', 'anthropic-version': '2023-06-01', 'x-a': 'b' });
  });
});

describe('openai-chat-to-anthropic-messages: answers', () => {
  it('turns an Anthropic message into a chat completion', () => {
    const converter = converterOf(openAiChatToAnthropicMessages);
    const completion = converter.convertResponse(200, {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'text', text: 'Sure. ' },
        { type: 'text', text: 'Done.' },
        { type: 'tool_use', id: 'tu_1', name: 'lookup', input: { q: 'a' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 4 },
    });
    assert.deepEqual(completion, {
      id: 'msg_1',
      object: 'chat.completion',
      created: CREATED_AT,
      model: 'claude-x',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Sure. Done.',
            tool_calls: [{ id: 'tu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 14, completion_tokens: 3, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } },
    });
    assert.deepEqual(
      converter.convertResponse(429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } }),
      {
        error: { message: 'slow', type: 'rate_limit_error', code: null },
      },
    );
  });

  it('streams Anthropic events as chat chunks, with the usage chunk the client asked for and [DONE]', () => {
    const converter = converterOf(openAiChatToAnthropicMessages);
    convertedRequest(converter, {
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = convertStream(converter, [
      named('message_start', {
        message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 7, output_tokens: 1 } },
      }),
      named('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      named('ping', {}),
      named('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
      named('content_block_stop', { index: 0 }),
      named('content_block_start', {
        index: 1,
        content_block: { type: 'tool_use', id: 'tu_1', name: 'lookup', input: {} },
      }),
      named('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":1}' } }),
      named('content_block_stop', { index: 1 }),
      named('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }),
      named('message_stop', {}),
    ]);
    const chunks = events.map((event) => event.data as JsonObject);
    const deltas = chunks.slice(0, -2).map((chunk) => (chunk.choices as JsonObject[])[0]);
    assert.deepEqual(deltas, [
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      { index: 0, delta: { content: 'Hi' }, finish_reason: null },
      {
        index: 0,
        delta: {
          tool_calls: [{ index: 0, id: 'tu_1', type: 'function', function: { name: 'lookup', arguments: '' } }],
        },
        finish_reason: null,
      },
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] }, finish_reason: null },
      { index: 0, delta: {}, finish_reason: 'tool_calls' },
    ]);
    assert.equal(chunks[0]?.id, 'msg_1');
    assert.equal(chunks[0]?.object, 'chat.completion.chunk');
    assert.deepEqual(chunks.at(-2)?.usage, { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
    assert.equal(events.at(-1)?.data, '[DONE]');
  });

  it('sends no usage chunk unless asked, and no [DONE] without message_stop', () => {
    const converter = converterOf(openAiChatToAnthropicMessages);
    convertedRequest(converter, { messages: [{ role: 'user', content: 'x' }], stream: true });
    const cut = convertStream(converter, [
      named('message_start', { message: { id: 'msg_1', model: 'm', usage: {} } }),
      named('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
    ]);
    assert.equal(cut.length, 2);
    assert.ok(cut.every((event) => event.data !== '[DONE]'));
    const complete = converterOf(openAiChatToAnthropicMessages);
    convertedRequest(complete, { messages: [{ role: 'user', content: 'x' }], stream: true });
    const events = convertStream(complete, [named('message_start', { message: {} }), named('message_stop', {})]);
    assert.equal(events.length, 2);
    assert.equal(events[1]?.data, '[DONE]');
  });
});

describe('openai-embeddings-to-vertex-predict', () => {
  it('turns input into instances and predictions into an embedding list', () => {
    const converter = converterOf(openAiEmbeddingsToVertexPredict);
    assert.deepEqual(convertedRequest(converter, { model: 'text-embedding-005', input: ['one', ['two', 'parts']] }), {
      instances: [{ content: 'one' }, { content: 'two parts' }],
    });
    const list = converter.convertResponse(200, {
      predictions: [
        { embeddings: { values: [0.1, 0.2], statistics: { token_count: 1 } } },
        { embeddings: { values: [0.3], statistics: { token_count: 2 } } },
      ],
    });
    assert.deepEqual(list, {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        { object: 'embedding', index: 1, embedding: [0.3] },
      ],
      model: 'text-embedding-005',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });

  it('names the model unknown when the client sent none, and rejects token arrays', () => {
    const converter = converterOf(openAiEmbeddingsToVertexPredict);
    convertedRequest(converter, { input: 'x' });
    assert.equal((converter.convertResponse(200, { predictions: [] }) as JsonObject).model, 'unknown');
    const rejected = converterOf(openAiEmbeddingsToVertexPredict).convertRequest({ input: [1, 2, 3] });
    assert.ok(rejected instanceof SwitchboardError);
    assert.equal(rejected.status, 400);
  });
});

describe('reasoning ⇄ thinking (§4.6)', () => {
  const chat = (extra: JsonObject): JsonObject =>
    convertedRequest(converterOf(openAiChatToAnthropicMessages), {
      messages: [{ role: 'user', content: 'think' }],
      ...extra,
    });

  const requests: { name: string; body: JsonObject; expected: JsonObject }[] = [
    {
      name: 'low within max_tokens: budget 1024, temperature and a low top_p dropped',
      body: { reasoning_effort: 'low', max_tokens: 10_000, temperature: 0.2, top_p: 0.9 },
      expected: { max_tokens: 10_000, thinking: { type: 'enabled', budget_tokens: 1024 } },
    },
    {
      name: 'medium over max_completion_tokens: the client limit goes on top of the budget, top_p ≥ 0.95 kept',
      body: { reasoning_effort: 'medium', max_completion_tokens: 1000, top_p: 0.97 },
      expected: { max_tokens: 3048, top_p: 0.97, thinking: { type: 'enabled', budget_tokens: 2048 } },
    },
    {
      name: 'high without max_tokens: budget + the 4096 default',
      body: { reasoning_effort: 'high', temperature: 1 },
      expected: { max_tokens: 8192, thinking: { type: 'enabled', budget_tokens: 4096 } },
    },
    {
      name: 'minimal: Anthropic’s smallest budget',
      body: { reasoning_effort: 'minimal', max_tokens: 1024 },
      expected: { max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } },
    },
    {
      name: 'xhigh: twice high',
      body: { reasoning_effort: 'xhigh', max_tokens: 20_000 },
      expected: { max_tokens: 20_000, thinking: { type: 'enabled', budget_tokens: 8192 } },
    },
    {
      name: 'none: no thinking, sampling kept',
      body: { reasoning_effort: 'none', temperature: 0.2 },
      expected: { max_tokens: 4096, temperature: 0.2 },
    },
    {
      name: 'an unknown effort: no thinking',
      body: { reasoning_effort: 'turbo', max_tokens: 50 },
      expected: { max_tokens: 50 },
    },
  ];
  for (const row of requests) {
    it(`reasoning_effort ${row.name}`, () => {
      const { messages: _messages, ...rest } = chat(row.body);
      assert.deepEqual(rest, row.expected);
    });
  }

  it('a forced tool choice wins over reasoning_effort (Anthropic refuses the two together)', () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    for (const tool_choice of ['required', { type: 'function', function: { name: 'lookup' } }]) {
      const body = chat({ reasoning_effort: 'high', temperature: 0.3, tools, tool_choice });
      assert.equal(body.thinking, undefined);
      assert.equal(body.temperature, 0.3);
    }
    const auto = chat({ reasoning_effort: 'high', tools, tool_choice: 'auto' });
    assert.deepEqual(auto.thinking, { type: 'enabled', budget_tokens: 4096 });
  });

  it('no thinking inside a tool loop: the continued turn would need a signed thinking block', () => {
    const loop = convertedRequest(converterOf(openAiChatToAnthropicMessages), {
      reasoning_effort: 'high',
      temperature: 0.5,
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'I should look it up.',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    });
    assert.equal(loop.thinking, undefined);
    assert.equal(loop.temperature, 0.5);
    assert.deepEqual((loop.messages as JsonObject[])[1]?.content, [
      { type: 'tool_use', id: 'c1', name: 'lookup', input: {} },
    ]);
    const nextTurn = chat({
      reasoning_effort: 'high',
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: 'Sunny.' },
        { role: 'user', content: 'and tomorrow?' },
      ],
    });
    assert.deepEqual(nextTurn.thinking, { type: 'enabled', budget_tokens: 4096 });
  });

  const efforts: { thinking: JsonObject; output_config?: JsonObject; effort: string | undefined }[] = [
    { thinking: { type: 'enabled', budget_tokens: 500 }, effort: 'minimal' },
    { thinking: { type: 'enabled', budget_tokens: 1024 }, effort: 'low' },
    { thinking: { type: 'enabled', budget_tokens: 2047 }, effort: 'low' },
    { thinking: { type: 'enabled', budget_tokens: 2048 }, effort: 'medium' },
    { thinking: { type: 'enabled', budget_tokens: 4096 }, effort: 'high' },
    { thinking: { type: 'enabled', budget_tokens: 32_000 }, effort: 'high' },
    { thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' }, effort: 'xhigh' },
    { thinking: { type: 'adaptive' }, effort: 'medium' },
    { thinking: { type: 'disabled' }, effort: undefined },
  ];
  for (const row of efforts) {
    it(`thinking ${JSON.stringify(row.thinking)}${row.output_config ? ' with output_config.effort' : ''} → reasoning_effort ${row.effort}`, () => {
      const body = convertedRequest(converterOf(anthropicMessagesToOpenAiChat), {
        max_tokens: 40_000,
        thinking: row.thinking,
        ...(row.output_config === undefined ? {} : { output_config: row.output_config }),
        messages: [{ role: 'user', content: 'think' }],
      });
      assert.equal(body.reasoning_effort, row.effort);
    });
  }

  it('both directions share one budget table: low, medium and high survive a round trip', () => {
    for (const effort of ['low', 'medium', 'high']) {
      const thinking = chat({ reasoning_effort: effort }).thinking;
      const back = convertedRequest(converterOf(anthropicMessagesToOpenAiChat), {
        max_tokens: 30_000,
        thinking,
        messages: [{ role: 'user', content: 'think' }],
      });
      assert.equal(back.reasoning_effort, effort);
    }
  });

  it('OpenAI clients get Anthropic thinking as reasoning_content', () => {
    const converter = converterOf(openAiChatToAnthropicMessages);
    const completion = converter.convertResponse(200, {
      id: 'msg_1',
      type: 'message',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: 'Let me see. ', signature: 'sig' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'thinking', thinking: 'Two.', signature: 'sig2' },
        { type: 'text', text: '2' },
      ],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 9 },
    }) as JsonObject;
    assert.deepEqual((completion.choices as JsonObject[])[0]?.message, {
      role: 'assistant',
      content: '2',
      reasoning_content: 'Let me see. Two.',
    });
  });

  it('OpenAI clients get thinking deltas as reasoning_content deltas, signatures dropped', () => {
    const converter = converterOf(openAiChatToAnthropicMessages);
    convertedRequest(converter, { messages: [{ role: 'user', content: 'x' }], stream: true, reasoning_effort: 'low' });
    const events = convertStream(converter, [
      named('message_start', { message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 3 } } }),
      named('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      named('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm, ' } }),
      named('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'two.' } }),
      named('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }),
      named('content_block_stop', { index: 0 }),
      named('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } }),
      named('content_block_stop', { index: 1 }),
      named('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }),
      named('content_block_delta', { index: 2, delta: { type: 'text_delta', text: '2' } }),
      named('content_block_stop', { index: 2 }),
      named('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }),
      named('message_stop', {}),
    ]);
    const deltas = events
      .slice(0, -1)
      .map((event) => ((event.data as JsonObject).choices as JsonObject[])[0]?.delta as JsonObject);
    assert.deepEqual(deltas, [
      { role: 'assistant', content: '' },
      { reasoning_content: 'Hmm, ' },
      { reasoning_content: 'two.' },
      { content: '2' },
      {},
    ]);
    assert.equal(events.at(-1)?.data, '[DONE]');
  });

  const deepSeekAnswer = {
    id: 'c1',
    model: 'deepseek-reasoner',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', reasoning_content: 'Add them.', content: '4' },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 5 },
  };
  const anthropicRequest = (thinking: JsonObject): JsonObject => ({
    max_tokens: 5000,
    thinking,
    messages: [{ role: 'user', content: '2+2?' }],
  });

  it('Anthropic clients get reasoning_content as a thinking block before the text', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    convertedRequest(converter, anthropicRequest({ type: 'enabled', budget_tokens: 2048 }));
    const message = converter.convertResponse(200, deepSeekAnswer) as JsonObject;
    assert.deepEqual(message.content, [
      { type: 'thinking', thinking: 'Add them.', signature: '' },
      { type: 'text', text: '4' },
    ]);
  });

  it('Anthropic clients get reasoning deltas in a thinking block before the text', () => {
    const converter = converterOf(anthropicMessagesToOpenAiChat);
    convertedRequest(converter, { ...anthropicRequest({ type: 'enabled', budget_tokens: 2048 }), stream: true });
    const chunk = (delta: JsonObject, finish: string | null = null) =>
      data({ id: 'c1', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });
    const events = convertStream(converter, [
      chunk({ role: 'assistant', content: null, reasoning_content: 'Add ' }),
      chunk({ reasoning_content: 'them.' }),
      // OpenRouter names the field `reasoning`.
      chunk({ reasoning: ' Done.' }),
      chunk({ content: '4' }),
      chunk({}, 'stop'),
      { type: 'message', data: '[DONE]' },
    ]);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    assert.deepEqual(events[1]?.data, {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    });
    assert.deepEqual(
      events.slice(2, 5).map((event) => (event.data as JsonObject).delta),
      [
        { type: 'thinking_delta', thinking: 'Add ' },
        { type: 'thinking_delta', thinking: 'them.' },
        { type: 'thinking_delta', thinking: ' Done.' },
      ],
    );
    assert.deepEqual(events[7]?.data, {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'text_delta', text: '4' },
    });
  });
});
