import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectProtocolId } from '../src/plugins/ai-proxy-multi/protocols/detect.js';
import { openAiChatProtocol } from '../src/plugins/ai-proxy-multi/protocols/openai-chat.js';
import { createSseEventSplitter, type SseEvent } from '../src/plugins/ai-proxy-multi/sse/sse-event-splitter.js';

function split(
  chunks: readonly (string | Buffer)[],
  maxPendingChars = 1024,
): { events: SseEvent[]; overflows: number } {
  const events: SseEvent[] = [];
  let overflows = 0;
  const splitter = createSseEventSplitter({
    maxPendingChars,
    onEvent: (event) => events.push(event),
    onOverflow: () => {
      overflows += 1;
    },
  });
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { events, overflows };
}

describe('createSseEventSplitter (ai-proxy-multi.md §6.3 step 5)', () => {
  it('splits several events in one chunk and one event across chunks', () => {
    assert.deepEqual(split(['data: a\n\ndata: b\n\nda', 'ta: c\n', '\n']).events, [
      { type: 'message', data: 'a' },
      { type: 'message', data: 'b' },
      { type: 'message', data: 'c' },
    ]);
  });

  it('handles CRLF boundaries, event types, comments and multi-line data', () => {
    assert.deepEqual(split([': keep-alive\r\n\r\nevent: delta\r\ndata: x\r\ndata:y\r\n\r\n']).events, [
      { type: 'delta', data: 'x\ny' },
    ]);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('data: héllo\n\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of é
    assert.deepEqual(split([bytes.subarray(0, cut), bytes.subarray(cut)]).events, [{ type: 'message', data: 'héllo' }]);
  });

  it('drops an unterminated leftover beyond the bound and keeps parsing after it', () => {
    const result = split([`data: ${'x'.repeat(50)}`, 'more', '\n\ndata: after\n\n'], 32);
    assert.equal(result.overflows, 1);
    assert.deepEqual(result.events, [{ type: 'message', data: 'after' }]);
  });
});

describe('openai-chat usage from stream events (§6.3 step 6)', () => {
  const usage = (prompt: number, completion: number, total: number) => ({
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    reasoning_tokens: 0,
  });
  const table: { data: string; expected: ReturnType<typeof usage> | undefined }[] = [
    { data: '[DONE]', expected: undefined },
    { data: '{"choices":[{"delta":{"content":"hi"}}]}', expected: undefined },
    { data: '{"choices":[],"usage":null}', expected: undefined },
    { data: '{"usage":{"prompt_tokens":3,"completion_tokens":2}}', expected: usage(3, 2, 5) },
    { data: '{"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":9}}', expected: usage(3, 2, 9) },
    { data: '{"usage": not json', expected: undefined },
  ];
  for (const row of table) {
    it(row.data, () => {
      const observer = openAiChatProtocol.createStreamObserver({ collectText: false });
      observer.onEvent({ type: 'message', data: row.data });
      assert.deepEqual(observer.usage, row.expected);
    });
  }
});

describe('detectProtocolId (§5.2, first match wins)', () => {
  const table: { name: string; body: unknown; path?: string; expected: string | undefined }[] = [
    { name: 'chat', body: { messages: [] }, expected: 'openai-chat' },
    { name: 'chat wins over input', body: { messages: [], input: 'x' }, expected: 'openai-chat' },
    { name: 'embeddings', body: { input: ['a'] }, expected: 'openai-embeddings' },
    { name: 'responses by path', body: { input: 'x' }, path: '/v1/responses', expected: 'openai-responses' },
    { name: 'anthropic by path', body: { messages: [] }, path: '/v1/messages', expected: 'anthropic-messages' },
    { name: 'bedrock by path', body: { messages: [] }, path: '/model/x/converse', expected: 'bedrock-converse' },
    { name: 'other object', body: { prompt: 'x' }, expected: 'passthrough' },
    { name: 'non-empty array', body: [1], expected: 'passthrough' },
    { name: 'empty object', body: {}, expected: undefined },
    { name: 'empty array', body: [], expected: undefined },
    { name: 'number', body: 42, expected: undefined },
    { name: 'string', body: 'x', expected: undefined },
    { name: 'null', body: null, expected: undefined },
  ];
  for (const row of table) {
    it(row.name, () => assert.equal(detectProtocolId(row.body, row.path ?? '/v1/chat/completions'), row.expected));
  }
});
