import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type AiGateway,
  jsonAnswer,
  type ScriptedUpstream,
  send,
  singleInstanceRoute,
  sseData,
  sseEvents,
  startAiGateway,
  startScriptedUpstream,
  until,
} from './ai-protocol-harness.js';

/**
 * Response caps (ai-proxy-multi.md §1.1, §6.2, §6.3): `max_response_bytes` and `max_stream_duration_ms`,
 * before the first byte (a clean 502/504 that a fallback could still act on) and after it (an honest
 * end: the error event, no `[DONE]`); and the upstream request aborted at once when the client leaves.
 */

const CHAT = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const STREAM_CHAT = { ...CHAT, stream: true };
const contentChunk = (text: string) =>
  sseData({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });

function openAiError(message: string, code: string): object {
  return { error: { message, type: 'server_error', code } };
}

describe('response caps', () => {
  let upstream: ScriptedUpstream;
  let gateway: AiGateway;
  /** Each test's upstream response, so the test can wait for the gateway to have closed it. */
  let upstreamResponses: http.ServerResponse[] = [];

  before(async () => {
    upstream = await startScriptedUpstream();
    const endpoint = { provider: 'openai-compatible', override: { endpoint: upstream.origin } };
    gateway = await startAiGateway({
      bytes: singleInstanceRoute('/bytes', endpoint, { max_response_bytes: 1024 }),
      duration: singleInstanceRoute('/duration', endpoint, { max_stream_duration_ms: 300 }),
    });
  });
  beforeEach(() => {
    upstream.reset();
    gateway.clearLogs();
    upstreamResponses = [];
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  /** An upstream stream that never ends by itself: `first` at once, then one chunk per `everyMs`. */
  function endlessStream(options: { readonly first: string; readonly everyMs?: number }) {
    upstream.respondWith((_req, res) => {
      upstreamResponses.push(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(options.first);
      if (options.everyMs === undefined) return;
      const timer = setInterval(() => res.write(contentChunk('x'.repeat(100))), options.everyMs);
      res.on('close', () => clearInterval(timer));
    });
  }

  const upstreamClosed = () => upstreamResponses.length > 0 && upstreamResponses.every((res) => res.closed);

  it('non-stream: a declared Content-Length over the cap → 502 before reading', async () => {
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.end('x'.repeat(100000));
    });
    const answer = await send(`${gateway.url}/bytes`, { body: CHAT });
    assert.equal(answer.status, 502);
    assert.deepEqual(answer.json(), openAiError('max_response_bytes exceeded', 'SB_ERR_RESPONSE_TOO_LARGE'));
    await gateway.waitForAccessLines(1);
    assert.match(gateway.allLogText(), /aborting AI response: Content-Length 100000 exceeds max_response_bytes 1024/);
  });

  it('non-stream: a chunked body over the cap → 502 once the running total passes it', async () => {
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let index = 0; index < 100; index += 1) res.write('x'.repeat(1000));
      res.end();
    });
    const answer = await send(`${gateway.url}/bytes`, { body: CHAT });
    assert.equal(answer.status, 502);
    assert.deepEqual(answer.json(), openAiError('max_response_bytes exceeded', 'SB_ERR_RESPONSE_TOO_LARGE'));
    await gateway.waitForAccessLines(1);
    assert.match(
      gateway.allLogText(),
      /aborting AI response: body size exceeds max_response_bytes 1024 \(read \d+ bytes\)/,
    );
  });

  it('non-stream: an answer under the cap is relayed', async () => {
    upstream.respondWith(jsonAnswer({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    assert.equal((await send(`${gateway.url}/bytes`, { body: CHAT })).status, 200);
    await gateway.waitForAccessLines(1);
  });

  it('stream: the bytes cap after the first byte ends the stream with an error event and no [DONE]', async () => {
    endlessStream({ first: contentChunk('hello'), everyMs: 5 });
    const answer = await send(`${gateway.url}/bytes`, { body: STREAM_CHAT });
    assert.equal(answer.status, 200);
    const events = sseEvents(answer.text);
    assert.deepEqual(events[0]?.data, { choices: [{ index: 0, delta: { content: 'hello' }, finish_reason: null }] });
    assert.deepEqual(events.at(-1)?.data, openAiError('max_response_bytes exceeded', 'SB_ERR_RESPONSE_TOO_LARGE'));
    assert.ok(!answer.text.includes('[DONE]'));
    const errorEvent = `data: ${JSON.stringify(events.at(-1)?.data)}\n\n`;
    assert.ok(answer.text.length - errorEvent.length <= 1024, 'no byte past the cap was relayed');
    await until(upstreamClosed, 'the upstream stream to be closed');
    await gateway.waitForAccessLines(1);
    assert.match(gateway.allLogText(), /aborting AI stream: max_response_bytes exceeded; bytes=\d+ duration_ms=\d+/);
  });

  it('stream: a first chunk over the bytes cap → 502 with nothing sent', async () => {
    endlessStream({ first: contentChunk('y'.repeat(2000)) });
    const answer = await send(`${gateway.url}/bytes`, { body: STREAM_CHAT });
    assert.equal(answer.status, 502);
    assert.deepEqual(answer.json(), openAiError('max_response_bytes exceeded', 'SB_ERR_RESPONSE_TOO_LARGE'));
    await until(upstreamClosed, 'the upstream stream to be closed');
  });

  it('stream: the duration cap after the first byte ends a silent stream honestly', async () => {
    endlessStream({ first: contentChunk('hello') });
    const answer = await send(`${gateway.url}/duration`, { body: STREAM_CHAT });
    assert.equal(answer.status, 200);
    const events = sseEvents(answer.text);
    assert.equal(events.length, 2);
    assert.deepEqual(events[1]?.data, openAiError('max_stream_duration_ms exceeded', 'SB_ERR_STREAM_TOO_LONG'));
    await until(upstreamClosed, 'the upstream stream to be closed');
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.status, 200);
    assert.match(gateway.allLogText(), /aborting AI stream: max_stream_duration_ms exceeded/);
  });

  it('stream: the duration cap before the first byte → 504 with nothing sent', async () => {
    upstream.respondWith((_req, res) => {
      upstreamResponses.push(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const answer = await send(`${gateway.url}/duration`, { body: STREAM_CHAT });
    assert.equal(answer.status, 504);
    assert.deepEqual(answer.json(), openAiError('max_stream_duration_ms exceeded', 'SB_ERR_STREAM_TOO_LONG'));
    await until(upstreamClosed, 'the upstream stream to be closed');
  });

  it('stream: a stream that ends within the duration cap is complete', async () => {
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${contentChunk('hi')}data: [DONE]\n\n`);
    });
    const answer = await send(`${gateway.url}/duration`, { body: STREAM_CHAT });
    assert.equal(answer.text, `${contentChunk('hi')}data: [DONE]\n\n`);
    await gateway.waitForAccessLines(1);
  });
});

describe('client disconnect', () => {
  it('aborts the upstream stream as soon as the client leaves, and logs the request as aborted', async () => {
    const upstream = await startScriptedUpstream();
    let written = 0;
    let writtenWhenClosed: number | undefined;
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => {
        written += 1;
        res.write(contentChunk(String(written)));
      }, 30);
      res.on('close', () => {
        clearInterval(timer);
        writtenWhenClosed = written;
      });
    });
    const gateway = await startAiGateway({
      slow: singleInstanceRoute('/slow', { provider: 'openai-compatible', override: { endpoint: upstream.origin } }),
    });
    try {
      let clientChunks = 0;
      let clientLeftAfter = 0;
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${gateway.url}/slow`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          agent: false,
        });
        req.on('error', () => resolve());
        req.on('response', (res) => {
          res.on('data', () => {
            clientChunks += 1;
            if (clientChunks === 3) {
              clientLeftAfter = written;
              req.destroy();
              resolve();
            }
          });
          res.on('error', () => resolve());
        });
        req.on('timeout', reject);
        req.end(JSON.stringify(STREAM_CHAT));
      });
      await until(() => writtenWhenClosed !== undefined, 'the upstream to see its request aborted');
      // APISIX's pinned bound (ai-proxy-client-disconnect.t): the upstream stops within 15 chunks.
      assert.ok(
        (writtenWhenClosed ?? 0) <= 15,
        `upstream wrote ${writtenWhenClosed} chunks (client left after ${clientLeftAfter})`,
      );
      const [line] = await gateway.waitForAccessLines(1);
      assert.equal(line?.aborted, true);
      assert.equal(line?.request_type, 'ai_stream');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
