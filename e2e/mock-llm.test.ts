import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { parseScenario, parseScenarioValue } from './mock-llm/scenario.js';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { readSseData } from './support/sse.js';

const chatBody = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function streamEvents(url: string, headers: Record<string, string> = {}): Promise<string[]> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ ...chatBody, stream: true }),
  });
  const events: string[] = [];
  for await (const data of readSseData(response.body)) events.push(data);
  return events;
}

describe('mock LLM', () => {
  let mock: MockLlm;
  before(async () => {
    mock = await startMockLlm({ name: 'alpha' });
  });
  after(() => mock.close());

  test('answers a chat completion with usage and says who answered', async () => {
    mock.clear();
    const result = await httpRequest(`${mock.url}/v1/chat/completions?api-version=1&x=y`, {
      headers: { authorization: 'Bearer sk-test' },
      body: chatBody,
    });
    assert.equal(result.status, 200);
    assert.equal(headerOf(result, 'x-mock-name'), 'alpha');
    assert.ok(isRecord(result.json));
    assert.equal(result.json.object, 'chat.completion');
    assert.equal(result.json.model, 'gpt-test');
    assert.match(String(result.json.id), /^chatcmpl-alpha-\d+$/);
    assert.deepEqual(result.json.usage, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });

    const [recorded] = mock.requests();
    assert.ok(recorded);
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/v1/chat/completions');
    assert.deepEqual(recorded.query, { 'api-version': '1', x: 'y' });
    assert.equal(recorded.headers.authorization, 'Bearer sk-test');
    assert.equal(recorded.bodyText, JSON.stringify(chatBody));
    assert.deepEqual(recorded.json, chatBody);
    assert.equal(recorded.scenario, 'ok');
  });

  test('streams SSE chunks, a usage chunk and [DONE] when stream is true', async () => {
    const events = await streamEvents(`${mock.url}/v1/chat/completions`);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as Record<string, unknown>);
    const text = chunks
      .flatMap((chunk) => (Array.isArray(chunk.choices) ? chunk.choices : []))
      .map((choice: { delta?: { content?: string } }) => choice.delta?.content ?? '')
      .join('');
    assert.equal(text, 'Hello from the mock LLM.');
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
    assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk'));
  });

  test('answers embeddings with one vector per input', async () => {
    const result = await httpRequest(`${mock.url}/v1/embeddings`, { body: { model: 'emb', input: ['a', 'b', 'c'] } });
    assert.equal(result.status, 200);
    assert.ok(isRecord(result.json) && Array.isArray(result.json.data));
    assert.equal(result.json.data.length, 3);
    assert.equal(result.json.object, 'list');
  });

  test('answers any path by the shape of the body', async () => {
    const chat = await httpRequest(`${mock.url}/custom/deployments/x/chat`, { body: chatBody });
    assert.ok(isRecord(chat.json));
    assert.equal(chat.json.object, 'chat.completion');
    const other = await httpRequest(`${mock.url}/anything`, { body: { hello: 1 } });
    assert.ok(isRecord(other.json));
    assert.equal(other.json.object, 'mock.echo');
    assert.equal(other.json.path, '/anything');
  });

  const statusCases = [
    {
      scenario: 'status:429',
      status: 429,
      contentType: 'application/json',
      retryAfter: '1',
      body: /rate_limit_exceeded/,
    },
    { scenario: 'status:500', status: 500, contentType: 'application/json', retryAfter: '', body: /server_error/ },
    {
      scenario: 'status:503:{"error":{"message":"busy"}}',
      status: 503,
      contentType: 'application/json',
      retryAfter: '',
      body: /^\{"error":\{"message":"busy"\}\}$/,
    },
    {
      scenario: 'status:401:Unauthorized',
      status: 401,
      contentType: 'text/plain',
      retryAfter: '',
      body: /^Unauthorized$/,
    },
  ];
  for (const expected of statusCases) {
    test(`scenario ${expected.scenario} by header`, async () => {
      const result = await httpRequest(`${mock.url}/v1/chat/completions`, {
        headers: { 'x-mock-scenario': expected.scenario },
        body: chatBody,
      });
      assert.equal(result.status, expected.status);
      assert.equal(headerOf(result, 'content-type'), expected.contentType);
      assert.equal(headerOf(result, 'retry-after'), expected.retryAfter);
      assert.equal(headerOf(result, 'x-mock-name'), 'alpha');
      assert.match(result.text, expected.body);
    });
  }

  test('a malformed scenario header is a 400 from the mock', async () => {
    const result = await httpRequest(`${mock.url}/v1/chat/completions`, {
      headers: { 'x-mock-scenario': 'explode' },
      body: chatBody,
    });
    assert.equal(result.status, 400);
    assert.match(result.text, /unknown scenario/);
  });

  test('reset destroys the connection before any header', async () => {
    await assert.rejects(
      httpRequest(`${mock.url}/v1/chat/completions`, { headers: { 'x-mock-scenario': 'reset' }, body: chatBody }),
      (error: Error) => /socket|other side closed|ECONNRESET/i.test(`${error.message} ${String(error.cause)}`),
    );
  });

  test('slow-stream sends the requested number of content chunks and a complete ending', async () => {
    const events = await streamEvents(`${mock.url}/v1/chat/completions`, { 'x-mock-scenario': 'slow-stream:4:5' });
    assert.equal(events.length, 4 + 3);
    assert.equal(events.at(-1), '[DONE]');
  });

  test('cut sends N chunks then breaks the connection without [DONE]', async () => {
    const received: string[] = [];
    await assert.rejects(collectStream(`${mock.url}/v1/chat/completions`, 'cut:2', received));
    assert.equal(received.length, 2);
    assert.ok(!received.includes('[DONE]'));
  });

  test('gated-stream sends a chunk only after each release', async () => {
    const response = await request(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-scenario': 'gated-stream:3' },
      body: JSON.stringify({ ...chatBody, stream: true }),
    });
    const events = readSseData(response.body);
    const first = await events.next();
    assert.match(String(first.value), /"role":"assistant"/);
    mock.releaseChunk();
    const second = await events.next();
    assert.match(String(second.value), /"content":" from"/);
    mock.releaseChunk();
    await events.next();
    mock.releaseChunk();
    const rest: string[] = [];
    for await (const data of events) rest.push(data);
    assert.equal(rest.at(-1), '[DONE]');
  });

  test('the control endpoint sets a server-wide scenario for the next N requests', async () => {
    const set = await httpRequest(`${mock.url}/__mock/scenario`, { body: { scenario: 'status:502', times: 2 } });
    assert.equal(set.status, 200);
    const statuses: number[] = [];
    for (let index = 0; index < 3; index++) {
      statuses.push((await httpRequest(`${mock.url}/v1/chat/completions`, { body: chatBody })).status);
    }
    assert.deepEqual(statuses, [502, 502, 200]);
    const bad = await httpRequest(`${mock.url}/__mock/scenario`, { body: { scenario: { kind: 'status' } } });
    assert.equal(bad.status, 400);
  });

  test('the control endpoint lists and clears recorded requests', async () => {
    await httpRequest(`${mock.url}/v1/embeddings`, { body: { input: 'x' } });
    const listed = await httpRequest(`${mock.url}/__mock/requests`);
    assert.ok(isRecord(listed.json) && Array.isArray(listed.json.requests));
    assert.ok(listed.json.requests.length > 0);
    await httpRequest(`${mock.url}/__mock/requests`, { method: 'DELETE' });
    assert.equal(mock.requests().length, 0);
  });
});

describe('mock LLM scenarios that never finish', () => {
  test('hang and stall hold the request until the mock closes', async () => {
    const mock = await startMockLlm({ name: 'beta' });
    const hung = httpRequest(`${mock.url}/v1/chat/completions`, {
      headers: { 'x-mock-scenario': 'hang' },
      body: chatBody,
    });
    hung.catch(() => undefined);
    const stalled: string[] = [];
    const stall = collectStream(`${mock.url}/v1/chat/completions`, 'stall:2', stalled);
    stall.catch(() => undefined);
    await pollUntil(() => mock.requests().length === 2 && stalled.length === 2, {
      timeoutMs: 5000,
      description: 'both requests',
    });
    let hungSettled = false;
    const markSettled = (): void => {
      hungSettled = true;
    };
    hung.then(markSettled, markSettled);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(hungSettled, false);
    await mock.close();
    await assert.rejects(hung);
    await assert.rejects(stall);
    assert.equal(stalled.length, 2);
  });
});

/** Pushes each event into `into` as it arrives, so a caller still sees what came before an error. */
async function collectStream(url: string, scenario: string, into: string[]): Promise<void> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mock-scenario': scenario },
    body: JSON.stringify({ ...chatBody, stream: true }),
  });
  for await (const data of readSseData(response.body)) into.push(data);
}

describe('mock LLM scenario syntax', () => {
  const cases: Array<[string, unknown]> = [
    ['ok', { kind: 'ok' }],
    ['status:429', { kind: 'status', status: 429 }],
    ['status:500:{"error":"x"}', { kind: 'status', status: 500, body: '{"error":"x"}' }],
    ['first-token-delay:20000', { kind: 'first-token-delay', ms: 20000 }],
    ['malformed-event', { kind: 'malformed-event', chunks: 2 }],
    ['malformed-event:4', { kind: 'malformed-event', chunks: 4 }],
    ['truncated:1', { kind: 'truncated', chunks: 1 }],
    ['no-done', { kind: 'no-done' }],
    ['gated-stream', { kind: 'gated-stream', chunks: 3 }],
    ['slow-stream:8:20', { kind: 'slow-stream', chunks: 8, intervalMs: 20 }],
  ];
  for (const [text, expected] of cases) {
    test(`${text} parses`, () => assert.deepEqual(parseScenario(text), expected));
  }
  test('an unknown scenario is a syntax error that names it', () => {
    assert.throws(() => parseScenario('explode'), {
      name: 'ScenarioSyntaxError',
      message: 'unknown scenario "explode"',
    });
  });
  test('the object form takes the same kinds', () => {
    assert.deepEqual(parseScenarioValue({ kind: 'first-token-delay', ms: 5 }), { kind: 'first-token-delay', ms: 5 });
    assert.deepEqual(parseScenarioValue({ kind: 'truncated' }), { kind: 'truncated', chunks: 2 });
  });
});
