import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAiProxyMultiPlugin } from '../src/plugins/ai-proxy-multi/plugin.js';
import { keyAuthPlugin } from '../src/plugins/key-auth.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import type { RuntimePlugin } from '../src/plugins/runtime-plugin.js';
import { request } from './support/harness.js';
import { type RunningProxy, startProxy } from './support/proxy-harness.js';
import {
  type Behaviour,
  type ScriptedUpstream,
  startScriptedUpstream,
  upstreamInstance,
} from './support/scripted-upstream.js';

/**
 * The fallback engine wired into ai-proxy-multi, through the real request pipeline (ai-proxy-multi.md §3):
 * each scenario states its expected outcome in its name.
 */

const ok =
  (name: string): Behaviour =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${name}`,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: `hello from ${name}` }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      }),
    );
  };

const status =
  (code: number, body: string, headers: Record<string, string> = {}): Behaviour =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

const reset: Behaviour = (req) => req.socket.destroy();
const hang: Behaviour = () => {};

const startUpstream = (name: string) => startScriptedUpstream(name, ok(name));

const CHAT = JSON.stringify({ model: 'client-model', messages: [{ role: 'user', content: 'hi' }] });

describe('ai-proxy-multi fallback through the pipeline (ai-proxy-multi.md §3)', () => {
  let proxy: RunningProxy;
  let high: ScriptedUpstream;
  let low: ScriptedUpstream;
  let third: ScriptedUpstream;
  let unavailable = new Set<string>();
  let routeSeq = 0;

  before(async () => {
    [high, low, third] = await Promise.all([startUpstream('high'), startUpstream('low'), startUpstream('third')]);
    const aiProxyMulti = createAiProxyMultiPlugin({
      random: () => 0,
      now: () => performance.now(),
    });
    // Stands in for ai-rate-limiting: its gate says which instances are exhausted (§9.1).
    const exhaustedGate: RuntimePlugin = {
      name: 'ai-rate-limiting',
      prepare: () => undefined,
      rewrite(ctx) {
        ctx.aiQuota = {
          admit: async (name, options) =>
            !unavailable.has(name)
              ? { kind: 'use' }
              : options.skippable
                ? { kind: 'skip' }
                : { kind: 'stop', stop: { kind: 'rejected', instance: name, status: 503, message: undefined } },
          settle: async () => {},
          release: () => {},
        };
        return undefined;
      },
    };
    proxy = await startProxy({
      plugins: createRuntimePluginRegistry({ random: () => 0, now: () => performance.now() }, [
        keyAuthPlugin,
        aiProxyMulti as RuntimePlugin,
        exhaustedGate,
      ]),
    });
  });
  after(async () => {
    await proxy.close();
    await Promise.all([high.close(), low.close(), third.close()]);
  });

  /** PUTs a fresh route and resets the upstreams; resolves its URL once the proxy serves it. */
  async function route(plugin: Record<string, unknown>): Promise<string> {
    routeSeq += 1;
    for (const upstream of [high, low, third]) {
      upstream.received.length = 0;
      upstream.respond(ok(upstream.name));
    }
    unavailable = new Set();
    const uri = `/fallback/${routeSeq}`;
    await proxy.applied(
      await proxy.store.put(`/apisix/routes/${routeSeq}`, {
        uri,
        plugins: { 'ai-proxy-multi': plugin, 'ai-rate-limiting': { limit: 1, time_window: 60 } },
      }),
    );
    return `${proxy.url}${uri}`;
  }

  const post = (url: string, body = CHAT) =>
    request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('high priority 503 → the next group answers 200; the attempt count and instance are in headers and logs', async () => {
    const url = await route({
      fallback_strategy: ['http_429', 'http_5xx'],
      attempt_headers: true,
      instances: [upstreamInstance(high, { priority: 10 }), upstreamInstance(low)],
    });
    high.respond(status(503, '{"error":{"message":"overloaded"}}'));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream'], 'low');
    assert.equal(answer.headers['x-ai-instance'], 'low');
    assert.equal(answer.headers['x-ai-attempts'], '2');
    assert.equal(high.received.length, 1);
    const fallbackLine = proxy.log.lines.find((line) =>
      String(line.msg).startsWith('ai instance high returned status 503'),
    );
    assert.equal(
      fallbackLine?.msg,
      'ai instance high returned status 503, falling back to low. upstream error body: {"error":{"message":"overloaded"}}',
    );
    const access = proxy.log.lines.findLast((line) => line.msg === 'access' && line.path === new URL(url).pathname);
    assert.equal(access?.ai_attempts, 2);
    assert.deepEqual(access?.ai_failed_attempts, [{ instance: 'high', status: 503 }]);
    assert.equal(access?.picked_ai_instance_name, 'low');
  });

  it('priority 10 answers 429 and priority 0 answers 500 → 502 with the last upstream body and content type', async () => {
    const url = await route({
      fallback_strategy: ['http_429', 'http_5xx'],
      instances: [upstreamInstance(high, { priority: 10 }), upstreamInstance(low)],
    });
    high.respond(status(429, '{"error":"slow down"}'));
    low.respond((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('low is broken');
    });
    const answer = await post(url);
    assert.equal(answer.status, 502);
    assert.equal(answer.text, 'low is broken');
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
  });

  it('a 401 without fallback_http_statuses is relayed, no fallback, no fallback line', async () => {
    const url = await route({
      fallback_strategy: ['http_429', 'http_5xx'],
      instances: [upstreamInstance(high, { priority: 1 }), upstreamInstance(low)],
    });
    high.respond(status(401, '{"error":"invalid api key"}'));
    const before = proxy.log.lines.length;
    const answer = await post(url);
    assert.equal(answer.status, 401);
    assert.equal(answer.text, '{"error":"invalid api key"}');
    assert.equal(low.received.length, 0);
    assert.ok(!proxy.log.lines.slice(before).some((line) => String(line.msg).includes('falling back')));
  });

  it('fallback_http_statuses [401, 402] walk down three priorities to a 200; max_retries 0 answers the 401', async () => {
    const instances = [
      upstreamInstance(high, { priority: 20 }),
      upstreamInstance(low, { priority: 10 }),
      upstreamInstance(third),
    ];
    let url = await route({ fallback_http_statuses: [401, 402], instances });
    high.respond(status(401, '{"error":"invalid api key"}'));
    low.respond(status(402, '{"error":"payment required"}'));
    let answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream'], 'third');

    url = await route({ fallback_http_statuses: [401, 402], max_retries: 0, instances });
    high.respond(status(401, '{"error":"invalid api key"}'));
    answer = await post(url);
    assert.equal(answer.status, 401);
    assert.equal(answer.text, '{"error":"invalid api key"}');
    assert.equal(low.received.length, 0);
  });

  it('a reset before headers (500) falls back; when every instance resets → 502, OpenAI-shaped', async () => {
    const url = await route({
      fallback_strategy: 'http_5xx',
      instances: [upstreamInstance(high, { priority: 1 }), upstreamInstance(low)],
    });
    high.respond(reset);
    let answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream'], 'low');

    low.respond(reset);
    answer = await post(url);
    assert.equal(answer.status, 502);
    const body = answer.json<{ error: { message: string; code: string } }>();
    assert.equal(body.error.code, 'SB_ERR_UPSTREAM_CONNECT');
    assert.match(body.error.message, /^failed to send request to LLM server/);
  });

  it('no answer within `timeout` (504) falls back to the next instance', async () => {
    const url = await route({
      fallback_strategy: 'http_5xx',
      timeout: 150,
      instances: [upstreamInstance(high, { priority: 1 }), upstreamInstance(low)],
    });
    high.respond(hang);
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream'], 'low');
    const failed = proxy.log.lines.find((line) => String(line.msg).startsWith('ai instance high returned status 504'));
    assert.ok(failed, 'the timeout is logged as a 504 fallback');
  });

  it('each attempt starts from the client body: the failed instance options do not leak into the next', async () => {
    const url = await route({
      fallback_strategy: 'http_5xx',
      instances: [
        upstreamInstance(high, { priority: 1, options: { model: 'upstream-model-A', temperature: 0.9 } }),
        upstreamInstance(low, { options: { model: 'upstream-model-B' } }),
      ],
    });
    high.respond(status(500, '{"error":"fast internal error"}'));
    const answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(high.received[0]?.temperature, 0.9);
    assert.equal(low.received[0]?.model, 'upstream-model-B');
    assert.equal(low.received[0]?.temperature, undefined);
    const access = proxy.log.lines.findLast((line) => line.msg === 'access' && line.path === new URL(url).pathname);
    assert.equal(access?.request_llm_model, 'client-model');
    assert.equal(access?.llm_model, 'upstream-model-B');
  });

  it('a single instance never retries: http_5xx and a 500 → the client gets the 500 (§3.6)', async () => {
    const url = await route({ fallback_strategy: 'http_5xx', instances: [upstreamInstance(high)] });
    high.respond(status(500, '{"error":"boom"}'));
    const answer = await post(url);
    assert.equal(answer.status, 500);
    assert.equal(answer.text, '{"error":"boom"}');
    assert.equal(high.received.length, 1);
  });

  it('never retries after the first byte: a stream cut mid-way ends with an error event, no fallback', async () => {
    const url = await route({
      fallback_strategy: 'http_5xx',
      instances: [upstreamInstance(high, { priority: 1 }), upstreamInstance(low)],
    });
    high.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n', () => res.destroy());
    });
    const answer = await post(url, JSON.stringify({ ...JSON.parse(CHAT), stream: true }));
    assert.equal(answer.status, 200);
    assert.match(answer.text, /"Hel"/);
    assert.doesNotMatch(answer.text, /\[DONE\]/);
    assert.equal(low.received.length, 0, 'the next instance is never asked once bytes went downstream');
  });

  it('rate_limiting skips an unavailable instance; none available → 503 all servers tried (OpenAI-shaped)', async () => {
    const url = await route({
      fallback_strategy: ['rate_limiting'],
      instances: [upstreamInstance(high, { priority: 1 }), upstreamInstance(low)],
    });
    unavailable = new Set(['high']);
    let answer = await post(url);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream'], 'low');
    assert.ok(
      proxy.log.lines.some((line) => line.msg === 'ai instance: high is not available, try to pick another one'),
    );

    unavailable = new Set(['high', 'low']);
    answer = await post(url);
    assert.equal(answer.status, 503);
    assert.deepEqual(answer.json(), {
      error: { message: 'all servers tried', type: 'server_error', code: 'SB_ERR_ALL_TRIED' },
    });
  });

  it('chash on a header keeps a session on one instance; a failure moves only that request', async () => {
    const url = await route({
      balancer: { algorithm: 'chash', hash_on: 'header', key: 'x-session-id' },
      fallback_strategy: 'http_5xx',
      instances: [upstreamInstance(high), upstreamInstance(low), upstreamInstance(third)],
    });
    const sessionOf = async (session: string) =>
      String(
        (
          await request(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-session-id': session },
            body: CHAT,
          })
        ).headers['x-upstream'],
      );
    const owners = new Map<string, string>();
    for (let index = 0; index < 12; index += 1) owners.set(`s-${index}`, await sessionOf(`s-${index}`));
    for (const [session, owner] of owners) assert.equal(await sessionOf(session), owner, `${session} is sticky`);
    assert.ok(new Set(owners.values()).size > 1, 'sessions spread over instances');
  });
});
