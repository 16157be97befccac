import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicMessagesProtocol } from '../src/plugins/ai-proxy-multi/protocols/anthropic-messages.js';
import { bedrockConverseProtocol } from '../src/plugins/ai-proxy-multi/protocols/bedrock-converse.js';
import { openAiChatProtocol } from '../src/plugins/ai-proxy-multi/protocols/openai-chat.js';
import { openAiEmbeddingsProtocol } from '../src/plugins/ai-proxy-multi/protocols/openai-embeddings.js';
import { openAiResponsesProtocol } from '../src/plugins/ai-proxy-multi/protocols/openai-responses.js';
import { passthroughProtocol } from '../src/plugins/ai-proxy-multi/protocols/passthrough.js';
import {
  type AiProtocol,
  mergeTokenUsage,
  type TokenUsage,
  tokenUsage,
} from '../src/plugins/ai-proxy-multi/protocols/protocol.js';
import type { SseEvent } from '../src/plugins/ai-proxy-multi/sse/sse-event-splitter.js';

/** What each protocol reads from answers (ai-proxy-multi.md §6.2 steps 6–8, §6.3 step 6). */

const usage = (counts: Partial<TokenUsage>): TokenUsage => tokenUsage(counts);

describe('usage, text and tool calls of whole answers (§6.2)', () => {
  const table: {
    name: string;
    protocol: AiProtocol;
    response: unknown;
    usage: TokenUsage | undefined;
    text?: string;
    toolCalls?: boolean;
  }[] = [
    {
      name: 'openai-chat: details, DeepSeek cache hits, texts joined by a space',
      protocol: openAiChatProtocol,
      response: {
        choices: [{ message: { content: 'a', tool_calls: [{ id: 't' }] } }, { message: { content: 'b' } }],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 4,
          prompt_cache_hit_tokens: 3,
          completion_tokens_details: { reasoning_tokens: 2 },
        },
      },
      usage: usage({
        prompt_tokens: 10,
        completion_tokens: 4,
        total_tokens: 14,
        cache_read_input_tokens: 3,
        reasoning_tokens: 2,
      }),
      text: 'a b',
      toolCalls: true,
    },
    {
      name: 'openai-chat: nulls count as absent',
      protocol: openAiChatProtocol,
      response: { choices: [], usage: { prompt_tokens: null, completion_tokens: 2, total_tokens: null } },
      usage: usage({ completion_tokens: 2 }),
    },
    {
      name: 'openai-embeddings: total is usage.total_tokens, 0 when absent',
      protocol: openAiEmbeddingsProtocol,
      response: { data: [], usage: { prompt_tokens: 5 } },
      usage: { ...usage({ prompt_tokens: 5 }), total_tokens: 0 },
    },
    {
      name: 'openai-responses: input/output, cached and reasoning details, output_text and function calls',
      protocol: openAiResponsesProtocol,
      response: {
        output: [
          { type: 'message', content: [{ type: 'output_text', text: 'x' }, { type: 'refusal' }] },
          { type: 'function_call', name: 'f' },
          { type: 'message', content: [{ type: 'output_text', text: 'y' }] },
        ],
        usage: {
          input_tokens: 7,
          output_tokens: 3,
          input_tokens_details: { cached_tokens: 1 },
          output_tokens_details: { reasoning_tokens: 2 },
        },
      },
      usage: usage({
        prompt_tokens: 7,
        completion_tokens: 3,
        total_tokens: 10,
        cache_read_input_tokens: 1,
        reasoning_tokens: 2,
      }),
      text: 'x y',
      toolCalls: true,
    },
    {
      name: 'anthropic-messages: total is always input + output',
      protocol: anthropicMessagesProtocol,
      response: {
        content: [
          { type: 'text', text: 'hi' },
          { type: 'tool_use', id: 't' },
          { type: 'text', text: 'there' },
        ],
        usage: { input_tokens: 6, output_tokens: 2, cache_read_input_tokens: 4, cache_creation_input_tokens: 1 },
      },
      usage: usage({
        prompt_tokens: 6,
        completion_tokens: 2,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 1,
      }),
      text: 'hi there',
      toolCalls: true,
    },
    {
      name: 'bedrock-converse',
      protocol: bedrockConverseProtocol,
      response: {
        output: { message: { content: [{ text: 'ok' }, { toolUse: { name: 'f' } }] } },
        usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
      },
      usage: usage({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }),
      text: 'ok',
      toolCalls: true,
    },
    {
      name: 'passthrough reads nothing',
      protocol: passthroughProtocol,
      response: { usage: { prompt_tokens: 1 } },
      usage: undefined,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const facts = row.protocol.readResponse(row.response, { collectText: true });
      assert.deepEqual(facts.usage, row.usage);
      assert.equal(facts.text, row.text);
      assert.equal(facts.hasToolCalls, row.toolCalls ?? false);
      assert.equal(row.protocol.readResponse(row.response, { collectText: false }).text, undefined);
    });
  }
});

describe('stream usage merging (§6.3 step 6)', () => {
  it('takes the first record as is, later positive counts overwrite, the total never falls below p + c', () => {
    let merged = mergeTokenUsage(undefined, usage({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 30 }));
    assert.deepEqual(merged, usage({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 30 }));
    merged = mergeTokenUsage(merged, usage({ completion_tokens: 25 }));
    assert.deepEqual(merged, usage({ prompt_tokens: 9, completion_tokens: 25, total_tokens: 34 }));
  });

  const named = (type: string, payload: object): SseEvent => ({ type, data: JSON.stringify({ type, ...payload }) });
  const table: { name: string; protocol: AiProtocol; events: SseEvent[]; usage: TokenUsage; text: string }[] = [
    {
      name: 'anthropic: input from message_start, output from message_delta',
      protocol: anthropicMessagesProtocol,
      events: [
        named('message_start', {
          message: { usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 5 } },
        }),
        named('content_block_delta', { delta: { type: 'text_delta', text: 'He' } }),
        named('content_block_delta', { delta: { type: 'text_delta', text: 'y' } }),
        named('message_delta', { usage: { output_tokens: 9 } }),
        named('message_stop', {}),
      ],
      usage: usage({ prompt_tokens: 12, completion_tokens: 9, cache_read_input_tokens: 5 }),
      text: 'Hey',
    },
    {
      name: 'responses: text deltas, usage from response.completed',
      protocol: openAiResponsesProtocol,
      events: [
        named('response.output_text.delta', { delta: 'a' }),
        named('response.output_text.delta', { delta: 'b' }),
        named('response.completed', { response: { usage: { input_tokens: 2, output_tokens: 2, total_tokens: 4 } } }),
      ],
      usage: usage({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 }),
      text: 'ab',
    },
    {
      name: 'bedrock: contentBlockDelta text, usage from the metadata frame',
      protocol: bedrockConverseProtocol,
      events: [
        { type: 'contentBlockDelta', data: '{"delta":{"text":"o"}}' },
        { type: 'contentBlockDelta', data: '{"delta":{"text":"k"}}' },
        { type: 'metadata', data: '{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}' },
      ],
      usage: usage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }),
      text: 'ok',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const observer = row.protocol.createStreamObserver({ collectText: true });
      for (const event of row.events) observer.onEvent(event);
      assert.deepEqual(observer.usage, row.usage);
      assert.equal(observer.text, row.text);
      const quiet = row.protocol.createStreamObserver({ collectText: false });
      for (const event of row.events) quiet.onEvent(event);
      assert.deepEqual(quiet.usage, row.usage, 'usage is read without text collection too');
      assert.equal(quiet.text, undefined);
    });
  }
});
