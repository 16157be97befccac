import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkResource, type PassiveObservation } from '@switchboard/core';
import type { InstanceHealthBoard } from '../src/health/health-board.js';
import {
  AttemptTimeoutError,
  AttemptTimers,
  type TimerFunctions,
} from '../src/plugins/ai-proxy-multi/attempt-timers.js';
import { createAiProxyMultiPlugin } from '../src/plugins/ai-proxy-multi/plugin.js';
import { SseKeepAliveScanner } from '../src/plugins/ai-proxy-multi/sse/keep-alive.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import type { RuntimePlugin } from '../src/plugins/runtime-plugin.js';
import { request, waitFor } from './support/harness.js';
import { type RunningProxy, startProxy } from './support/proxy-harness.js';
import {
  type Behaviour,
  type ScriptedUpstream,
  startScriptedUpstream,
  upstreamInstance,
} from './support/scripted-upstream.js';

/**
 * `first_token_timeout_ms`, `stall_timeout_ms`, `request_deadline_ms` and the honest end of streams the
 * upstream ends early (docs/balancing.md "Timeouts", ai-proxy-multi.md §3.2, §6.3): the timer logic
 * against a manual clock, then each case through the real pipeline against an in-test upstream.
 */

/** A clock the test moves, and the timers that fire when it passes them. */
function createManualClock() {
  let now = 0;
  let scheduled = 0;
  const pending = new Map<number, { readonly callback: () => void; readonly at: number }>();
  const timers: TimerFunctions = {
    setTimeout(callback, ms) {
      scheduled += 1;
      pending.set(scheduled, { callback, at: now + ms });
      return scheduled;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    now: () => now,
    /** How many timers were ever started. */
    scheduledCount: () => scheduled,
    advance(ms: number): void {
      now += ms;
      for (;;) {
        const due = [...pending.entries()].find(([, timer]) => timer.at <= now);
        if (due === undefined) return;
        pending.delete(due[0]);
        due[1].callback();
      }
    },
  };
}

function manualTimers(settings: Partial<ConstructorParameters<typeof AttemptTimers>[0]>) {
  const clock = createManualClock();
  const expired: string[] = [];
  const timers = new AttemptTimers(
    { firstTokenTimeoutMs: undefined, stallTimeoutMs: undefined, deadlineAt: undefined, ...settings },
    { now: clock.now, timers: clock.timers, onExpire: (error) => expired.push(error.limit) },
  );
  return { clock, timers, expired };
}

describe('AttemptTimers (one timer per attempt, never one per chunk)', () => {
  it('first_token_timeout_ms runs from the response headers, not from the start of the attempt', () => {
    const { clock, timers, expired } = manualTimers({ firstTokenTimeoutMs: 100 });
    clock.advance(1000);
    assert.deepEqual(expired, [], 'waiting for headers is `timeout`’s job');
    timers.responseStarted();
    clock.advance(99);
    assert.deepEqual(expired, []);
    clock.advance(1);
    assert.deepEqual(expired, ['first_token_timeout_ms']);
    assert.ok(timers.expired instanceof AttemptTimeoutError);
    assert.equal(timers.expired.status, 504);
    assert.equal(timers.expired.code, 'SB_ERR_UPSTREAM_TIMEOUT');
    assert.equal(timers.expired.message, 'first_token_timeout_ms exceeded');
  });

  it('the first token ends first-token timing; without a stall timeout nothing else runs', () => {
    const { clock, timers, expired } = manualTimers({ firstTokenTimeoutMs: 100 });
    timers.responseStarted();
    clock.advance(50);
    timers.chunk();
    clock.advance(10_000);
    assert.deepEqual(expired, []);
    assert.equal(timers.awaitsFirstToken, false);
  });

  it('stall_timeout_ms: a thousand chunks start at most a few timers; silence then expires it', () => {
    const { clock, timers, expired } = manualTimers({ stallTimeoutMs: 100 });
    timers.responseStarted();
    for (let index = 0; index < 1000; index++) {
      timers.chunk();
      clock.advance(30);
    }
    assert.deepEqual(expired, []);
    assert.ok(clock.scheduledCount() <= 1000 / 3 + 2, `one timer per stall period at most (${clock.scheduledCount()})`);
    clock.advance(100);
    assert.deepEqual(expired, ['stall_timeout_ms']);
  });

  it('a client that holds the stream is not a stall; the gap restarts when it takes more', () => {
    const { clock, timers, expired } = manualTimers({ stallTimeoutMs: 100 });
    timers.responseStarted();
    timers.chunk();
    timers.clientBlocked(true);
    clock.advance(1000);
    assert.deepEqual(expired, []);
    timers.clientBlocked(false);
    clock.advance(99);
    assert.deepEqual(expired, []);
    clock.advance(1);
    assert.deepEqual(expired, ['stall_timeout_ms']);
  });

  it('the request deadline ends any phase, and wins when it comes first', () => {
    const waiting = manualTimers({ deadlineAt: 300 });
    waiting.clock.advance(300);
    assert.deepEqual(waiting.expired, ['request_deadline_ms'], 'even before the headers');

    const streaming = manualTimers({ deadlineAt: 150, firstTokenTimeoutMs: 1000, stallTimeoutMs: 1000 });
    streaming.timers.responseStarted();
    streaming.clock.advance(149);
    streaming.timers.chunk();
    streaming.clock.advance(1);
    assert.deepEqual(streaming.expired, ['request_deadline_ms']);
  });

  it('stop() cancels everything', () => {
    const { clock, timers, expired } = manualTimers({ firstTokenTimeoutMs: 10, deadlineAt: 20 });
    timers.responseStarted();
    timers.stop();
    clock.advance(1000);
    assert.deepEqual(expired, []);
  });
});

describe('SseKeepAliveScanner', () => {
  const table: ReadonlyArray<readonly [string, readonly string[], readonly boolean[]]> = [
    ['a comment', [': ping\n\n'], [true]],
    ['an event', ['data: {"a":1}\n\n'], [false]],
    ['blank lines and CRLF comments', ['\r\n: a\r\n: b\r\n\r\n'], [true]],
    ['a comment split across chunks', [': OPENROUTER PROC', 'ESSING\n\n'], [true, true]],
    ['a comment then an event in one chunk', [': ping\n\ndata: x\n\n'], [false]],
    ['an event line split after its first byte', ['d', 'ata: x\n\n'], [false, false]],
  ];
  for (const [what, chunks, expected] of table) {
    it(`${what} → ${expected.join(', ')}`, () => {
      const scanner = new SseKeepAliveScanner();
      assert.deepEqual(
        chunks.map((chunk) => scanner.onlyKeepAlive(Buffer.from(chunk))),
        expected,
      );
    });
  }
});

describe('the new fields in the schema (Beyond APISIX, off when absent)', () => {
  const check = (fields: Record<string, unknown>) =>
    checkResource(
      'routes',
      {
        uri: '/chat',
        plugins: {
          'ai-proxy-multi': { instances: [{ name: 'a', provider: 'openai', weight: 1, auth: {} }], ...fields },
        },
      },
      { mode: 'admin' },
    );
  for (const field of ['first_token_timeout_ms', 'stall_timeout_ms', 'request_deadline_ms']) {
    it(`${field}: 1 and 60000 accepted; 0 and 1.5 rejected naming the field; absent stays absent`, () => {
      assert.ok(check({ [field]: 1 }).ok);
      assert.ok(check({ [field]: 60_000 }).ok);
      const zero = check({ [field]: 0 });
      assert.ok(!zero.ok);
      assert.match(zero.message, new RegExp(`property "${field}" validation failed: expected 0 to be at least 1`));
      const fraction = check({ [field]: 1.5 });
      assert.ok(!fraction.ok);
      assert.match(fraction.message, new RegExp(`property "${field}" validation failed`));
      const absent = check({});
      assert.ok(absent.ok);
      const conf = (absent.value.plugins as Record<string, Record<string, unknown>>)['ai-proxy-multi'] ?? {};
      assert.equal(field in conf, false, 'no default is materialised');
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Through the pipeline.

const chunk = (content: string) =>
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;
const FINISH =
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
const USAGE =
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n';
const DONE = 'data: [DONE]\n\n';
const SSE_HEADERS = { 'content-type': 'text/event-stream' };

/** Writes `parts` in order, then ends the response (or leaves it open with `end: false`). */
const stream =
  (parts: readonly string[], options: { readonly end?: boolean } = {}): Behaviour =>
  (_req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    for (const part of parts) res.write(part);
    if (options.end !== false) res.end();
  };

const okStream = (name: string): Behaviour => stream([chunk(`hello from ${name}`), FINISH, USAGE, DONE]);
const hang: Behaviour = () => {};

const startUpstream = (name: string) => startScriptedUpstream(name, okStream(name));

const STREAM_CHAT = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
const CHAT = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
const post = (url: string, body = STREAM_CHAT) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('timeouts and honest stream ends through the pipeline', () => {
  let proxy: RunningProxy;
  let a: ScriptedUpstream;
  let b: ScriptedUpstream;
  let routeSeq = 0;
  /** What passive health was told, as `<instance>:<kind>`. */
  const reports: string[] = [];
  const board: InstanceHealthBoard = {
    version: () => 0,
    isHealthy: () => true,
    targetsOf: () => undefined,
    report: (key: string, observation: PassiveObservation) =>
      reports.push(`${key.slice(key.indexOf('#') + 1)}:${observation.kind}`),
  };

  before(async () => {
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    const aiProxyMulti = createAiProxyMultiPlugin({ random: () => 0, now: () => performance.now(), health: board });
    proxy = await startProxy({
      plugins: createRuntimePluginRegistry({ random: () => 0, now: () => performance.now() }, [
        aiProxyMulti as RuntimePlugin,
      ]),
    });
  });
  after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });

  /** A fresh route: `a` preferred (priority 1), `b` the fallback; resolves its URL once served. */
  async function route(fields: Record<string, unknown>, options: { readonly uriSuffix?: string } = {}) {
    routeSeq += 1;
    for (const upstream of [a, b]) {
      upstream.received.length = 0;
      upstream.respond(okStream(upstream.name));
    }
    reports.length = 0;
    const uri = `/t/${routeSeq}${options.uriSuffix ?? ''}`;
    const plugin = { instances: [upstreamInstance(a, { priority: 1 }), upstreamInstance(b)], ...fields };
    await proxy.applied(
      await proxy.store.put(`/apisix/routes/${routeSeq}`, { uri, plugins: { 'ai-proxy-multi': plugin } }),
    );
    return { url: `${proxy.url}${uri}`, path: uri };
  }

  const accessLine = (path: string) =>
    waitFor(() => proxy.log.lines.findLast((line) => line.msg === 'access' && line.path === path), {
      what: `the access line of ${path}`,
    });
  const logged = (text: string) => proxy.log.lines.some((line) => String(line.msg).includes(text));

  it('headers at once, no first token: first_token_timeout_ms 200 → b answers, a is aborted and listed as failed (504)', async () => {
    const { url, path } = await route({ fallback_strategy: ['http_5xx'], first_token_timeout_ms: 200 });
    a.respond(stream([], { end: false }));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.match(answer.text, /hello from b/);
    assert.doesNotMatch(answer.text, /hello from a/);
    await a.closed;
    assert.ok(logged('aborting AI request: first_token_timeout_ms exceeded'));
    const access = await accessLine(path);
    assert.equal(access.picked_ai_instance_name, 'b');
    assert.deepEqual(access.ai_failed_attempts, [{ instance: 'a', status: 504 }]);
    assert.equal(access.llm_total_tokens, 7, 'usage of the instance that answered');
  });

  it('first_token_timeout_ms without a fallback → 504, OpenAI-shaped, code SB_ERR_UPSTREAM_TIMEOUT', async () => {
    const { url } = await route({ first_token_timeout_ms: 150 });
    a.respond(stream([], { end: false }));
    const answer = await post(url);
    assert.equal(answer.status, 504);
    assert.deepEqual(answer.json(), {
      error: { message: 'first_token_timeout_ms exceeded', type: 'server_error', code: 'SB_ERR_UPSTREAM_TIMEOUT' },
    });
    assert.equal(b.received.length, 0);
  });

  it('keep-alive comments are not a first token: a sending only comments times out and b answers', async () => {
    const { url } = await route({ fallback_strategy: ['http_5xx'], first_token_timeout_ms: 200 });
    a.respond((_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.write(': PROCESSING\n\n');
      const keepAlive = setInterval(() => res.write(': PROCESSING\n\n'), 20);
      res.once('close', () => clearInterval(keepAlive));
    });
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.match(answer.text, /hello from b/);
    assert.doesNotMatch(answer.text, /PROCESSING/, 'nothing of a reached the client');
  });

  it('comments that came before the first token are sent ahead of it, unchanged', async () => {
    const { url } = await route({ first_token_timeout_ms: 5000 });
    a.respond(stream([': ping\n\n', chunk('late'), FINISH, DONE]));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, `: ping\n\n${chunk('late')}${FINISH}${DONE}`);
  });

  it('without first_token_timeout_ms a first token after a pause still reaches the client', async () => {
    const { url } = await route({ fallback_strategy: ['http_5xx'] });
    a.respond((_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      const timer = setTimeout(() => res.end(`${chunk('slow but fine')}${FINISH}${DONE}`), 300);
      res.once('close', () => clearTimeout(timer));
    });
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.match(answer.text, /slow but fine/);
    assert.equal(b.received.length, 0);
  });

  it('stall after the first byte (stall_timeout_ms) → in-band error, no [DONE]; a counts against passive health', async () => {
    const { url, path } = await route({ fallback_strategy: ['http_5xx'], stall_timeout_ms: 150, passive_health: {} });
    a.respond(stream([chunk('Hel'), chunk('lo')], { end: false }));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.ok(answer.text.startsWith(`${chunk('Hel')}${chunk('lo')}`));
    assert.match(
      answer.text,
      /"message":"stall_timeout_ms exceeded","type":"server_error","code":"SB_ERR_UPSTREAM_TIMEOUT"/,
    );
    assert.doesNotMatch(answer.text, /\[DONE\]/);
    assert.equal(b.received.length, 0, 'never a fallback after the first byte');
    await a.closed;
    assert.deepEqual(reports, ['a:failure']);
    const access = await accessLine(path);
    assert.deepEqual(access.ai_stream_error, {
      instance: 'a',
      code: 'SB_ERR_UPSTREAM_TIMEOUT',
      message: 'stall_timeout_ms exceeded',
    });
  });

  it('stall before anything reached the client (a JSON body stops mid-way) → falls back like a timeout', async () => {
    const { url } = await route({ fallback_strategy: ['http_5xx'], stall_timeout_ms: 150 });
    a.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"chatcmpl-a","choices":');
    });
    b.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"chatcmpl-b","choices":[]}');
    });
    const answer = await post(url, CHAT);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '{"id":"chatcmpl-b","choices":[]}');
    assert.ok(logged('ai instance a returned status 504, falling back to b'));
  });

  it('request_deadline_ms: a hangs → aborted at the deadline, no further attempt → 504; not counted against a', async () => {
    const { url, path } = await route({
      fallback_strategy: ['http_5xx'],
      request_deadline_ms: 250,
      passive_health: {},
    });
    a.respond(hang);
    const answer = await post(url);
    assert.equal(answer.status, 504);
    assert.deepEqual(answer.json(), {
      error: { message: 'request_deadline_ms exceeded', type: 'server_error', code: 'SB_ERR_UPSTREAM_TIMEOUT' },
    });
    assert.equal(b.received.length, 0, 'no attempt starts after the deadline');
    await a.closed;
    assert.ok(logged('request_deadline_ms exceeded, not falling back'));
    assert.deepEqual(reports, [], 'the deadline says nothing about the health of the instance it cut');
    const access = await accessLine(path);
    assert.equal(access.ai_attempts, 1);
    assert.deepEqual(access.ai_failed_attempts, [{ instance: 'a', status: 504 }]);
  });

  it('request_deadline_ms across attempts: a fails fast (500), b hangs → 504 at the deadline, both attempts listed', async () => {
    const { url, path } = await route({ fallback_strategy: ['http_5xx'], request_deadline_ms: 300 });
    a.respond((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"a is down"}');
    });
    b.respond(hang);
    const answer = await post(url);
    assert.equal(answer.status, 504);
    assert.equal(answer.json<{ error: { message: string } }>().error.message, 'request_deadline_ms exceeded');
    const access = await accessLine(path);
    assert.deepEqual(access.ai_failed_attempts, [
      { instance: 'a', status: 500 },
      { instance: 'b', status: 504 },
    ]);
  });

  it('request_deadline_ms after the first byte → the stream ends with an in-band error, no [DONE]', async () => {
    const { url } = await route({ request_deadline_ms: 250 });
    a.respond(stream([chunk('partial')], { end: false }));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.ok(answer.text.startsWith(chunk('partial')));
    assert.match(answer.text, /"message":"request_deadline_ms exceeded"/);
    assert.doesNotMatch(answer.text, /\[DONE\]/);
  });

  it('a stream that ends cleanly without [DONE] or a finish reason → in-band error appended, a counted as failed', async () => {
    const { url, path } = await route({ fallback_strategy: ['http_5xx'], passive_health: {} });
    a.respond(stream([chunk('cut'), chunk(' short')]));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(
      answer.text,
      `${chunk('cut')}${chunk(' short')}data: {"error":{"message":"failed to read response from LLM server: the stream ended before the answer was complete","type":"server_error","code":"SB_ERR_UPSTREAM_CONNECT"}}\n\n`,
    );
    assert.deepEqual(reports, ['a:failure']);
    assert.deepEqual((await accessLine(path)).ai_stream_error, {
      instance: 'a',
      code: 'SB_ERR_UPSTREAM_CONNECT',
      message: 'failed to read response from LLM server: the stream ended before the answer was complete',
    });
  });

  it('a stream with a finish reason but no [DONE] is complete: relayed byte for byte, nothing added', async () => {
    const { url } = await route({});
    a.respond(stream([chunk('done'), FINISH, USAGE]));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, `${chunk('done')}${FINISH}${USAGE}`);
  });

  it('an empty 200 event stream is no answer: it falls back (500) to b', async () => {
    const { url } = await route({ fallback_strategy: ['http_5xx'] });
    a.respond(stream([]));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.match(answer.text, /hello from b/);
    assert.ok(logged('ai instance a returned status 500, falling back to b'));
  });

  it('a malformed event is relayed unchanged and the stream completes with [DONE]', async () => {
    const { url } = await route({});
    const parts = [chunk('before'), 'data: {"choices":[{"delta":{"content":"bro\n\n', chunk('after'), FINISH, DONE];
    a.respond(stream(parts));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, parts.join(''));
  });

  it('an incomplete trailing event at the end is discarded from parsing with a warning; the bytes were relayed', async () => {
    const { url } = await route({});
    const parts = [chunk('x'), FINISH, DONE, 'data: {"trailing":'];
    a.respond(stream(parts));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, parts.join(''));
    await waitFor(() => logged('incomplete SSE event at the end of the stream discarded') || undefined, {
      what: 'the warning',
    });
  });

  it('an Anthropic client whose OpenAI upstream stream ends without a finish reason → event: error, no message_stop', async () => {
    const { url } = await route({}, { uriSuffix: '/v1/messages' });
    a.respond(stream([chunk('Hi')]));
    const answer = await post(
      url,
      JSON.stringify({ model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.equal(answer.status, 200);
    assert.match(answer.text, /event: message_start/);
    assert.match(answer.text, /event: error\ndata: \{"type":"error"/);
    assert.doesNotMatch(answer.text, /message_stop/);
  });
});
