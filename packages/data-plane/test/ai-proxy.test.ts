import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkResource, findPlugin, pluginJsonSchema } from '@switchboard/core';
import { asSingleInstanceConf } from '../src/plugins/ai-proxy/conf.js';
import { createAiProxyPlugin } from '../src/plugins/ai-proxy/plugin.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import {
  type AiGateway,
  jsonAnswer,
  type ScriptedUpstream,
  send,
  sseAnswer,
  sseData,
  startAiGateway,
  startScriptedUpstream,
} from './ai-protocol-harness.js';

/** ai-proxy (ai-proxy-multi.md §1.2, §1.11, §3.6): one upstream over the ai-proxy-multi engine, never retried. */

const CHAT = { model: 'client-model', messages: [{ role: 'user', content: 'hi' }] };

describe('ai-proxy in the catalog', () => {
  it('has priority 1040 (after ai-proxy-multi), its secrets encrypted, and the runtime registered', () => {
    const descriptor = findPlugin('ai-proxy');
    assert.equal(descriptor?.priority, 1040);
    assert.equal(descriptor?.type, 'other');
    assert.deepEqual(descriptor?.encryptFields, [
      'auth.header',
      'auth.query',
      'auth.gcp.service_account_json',
      'auth.aws.secret_access_key',
      'auth.aws.session_token',
    ]);
    assert.ok(pluginJsonSchema('ai-proxy') !== undefined);
    const registry = createRuntimePluginRegistry({ random: () => 0, now: () => 0 });
    assert.equal(registry.get('ai-proxy')?.priority, 1040);
    assert.equal(registry.get('ai-proxy-multi')?.priority, 1041);
  });

  const table: { name: string; conf: Record<string, unknown>; error: string | undefined }[] = [
    {
      name: 'minimal',
      conf: { provider: 'openai', auth: { header: { Authorization: 'Bearer k' } } },
      error: undefined,
    },
    {
      name: 'unknown provider',
      conf: { provider: 'some-unique', auth: {} },
      error: 'property "provider" validation failed: matches none of the enum values',
    },
    { name: 'no auth', conf: { provider: 'openai' }, error: 'property "auth" is required' },
    {
      name: 'max_stream_duration_ms 0',
      conf: { provider: 'openai', auth: {}, max_stream_duration_ms: 0 },
      error: 'property "max_stream_duration_ms" validation failed: expected 0 to be at least 1',
    },
    {
      name: 'vertex-ai without project or endpoint (no instance prefix)',
      conf: { provider: 'vertex-ai', auth: {} },
      error: 'vertex-ai requires either provider_conf (project_id + region) or override.endpoint',
    },
    {
      name: 'bedrock without aws auth',
      conf: { provider: 'bedrock', auth: {}, provider_conf: { region: 'us-east-1' } },
      error: 'bedrock requires auth.aws',
    },
    {
      name: 'an endpoint is not format-checked for ai-proxy',
      conf: { provider: 'openai-compatible', auth: {}, override: { endpoint: 'http//127.0.0.1:1980' } },
      error: undefined,
    },
  ];
  for (const row of table) {
    it(`${row.name} → ${row.error === undefined ? 'valid' : 'rejected'}`, () => {
      const checked = checkResource('routes', { uri: '/x', plugins: { 'ai-proxy': row.conf } }, { mode: 'admin' });
      if (row.error === undefined) assert.ok(checked.ok, checked.ok ? '' : checked.message);
      else {
        assert.ok(!checked.ok);
        assert.ok(checked.message.includes(row.error), checked.message);
      }
    });
  }
});

describe('asSingleInstanceConf', () => {
  it('names the one instance ai-proxy-<provider> and keeps the transport fields', () => {
    const conf = asSingleInstanceConf({
      provider: 'deepseek',
      auth: { header: { Authorization: 'Bearer k' } },
      options: { model: 'deepseek-chat' },
      timeout: 1000,
      max_req_body_size: 10,
      keepalive: true,
      keepalive_timeout: 60000,
      keepalive_pool: 30,
      ssl_verify: true,
      max_response_bytes: 99,
      logging: { summaries: true },
    });
    assert.deepEqual(conf.instances, [
      {
        name: 'ai-proxy-deepseek',
        provider: 'deepseek',
        weight: 1,
        priority: 0,
        auth: { header: { Authorization: 'Bearer k' } },
        options: { model: 'deepseek-chat' },
      },
    ]);
    assert.equal(conf.timeout, 1000);
    assert.equal(conf.max_response_bytes, 99);
    assert.deepEqual(conf.logging, { summaries: true });
  });

  it('is a runtime plugin named ai-proxy', () => {
    assert.equal(createAiProxyPlugin({ random: () => 0, now: () => 0 }).name, 'ai-proxy');
  });
});

describe('ai-proxy through the gateway', () => {
  let upstream: ScriptedUpstream;
  let gateway: AiGateway;

  before(async () => {
    upstream = await startScriptedUpstream();
    const aiProxy = {
      provider: 'openai-compatible',
      auth: { header: { Authorization: 'Bearer upstream' }, query: { k: 'v' } },
      options: { model: 'upstream-model', temperature: 0.2 },
      override: { endpoint: upstream.origin },
    };
    gateway = await startAiGateway({
      single: { uri: '/single', plugins: { 'ai-proxy': aiProxy } },
      both: {
        uri: '/both',
        plugins: {
          'ai-proxy': aiProxy,
          'ai-proxy-multi': {
            instances: [
              {
                name: 'multi',
                provider: 'openai-compatible',
                weight: 1,
                auth: {},
                override: { endpoint: `${upstream.origin}/multi` },
              },
            ],
          },
        },
      },
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

  it('proxies with auth, options and the engine’s log fields', async () => {
    upstream.respondWith(jsonAnswer({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 3 } }));
    const answer = await send(`${gateway.url}/single`, { body: CHAT });
    assert.equal(answer.status, 200);
    const [seen] = upstream.received;
    assert.equal(seen?.url, '/v1/chat/completions?k=v');
    assert.equal(seen?.headers.authorization, 'Bearer upstream');
    assert.deepEqual(upstream.json(), { ...CHAT, model: 'upstream-model', temperature: 0.2 });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.picked_ai_instance_name, 'ai-proxy-openai-compatible');
    assert.equal(line?.ai_attempts, 1);
    assert.equal(line?.llm_model, 'upstream-model');
    assert.equal(line?.llm_completion_tokens, 3);
  });

  it('relays an upstream 5xx with its body and never retries', async () => {
    upstream.respondWith(jsonAnswer({ error: { message: 'boom' } }, 503));
    const answer = await send(`${gateway.url}/single`, { body: CHAT });
    assert.equal(answer.status, 503);
    assert.deepEqual(answer.json(), { error: { message: 'boom' } });
    assert.equal(upstream.received.length, 1);
    await gateway.waitForAccessLines(1);
  });

  it('streams', async () => {
    upstream.respondWith(sseAnswer([sseData({ choices: [{ delta: { content: 'a' } }] }), 'data: [DONE]\n\n']));
    const answer = await send(`${gateway.url}/single`, { body: { ...CHAT, stream: true } });
    assert.match(answer.text, /data: \[DONE\]\n\n$/);
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_stream');
  });

  it('yields to ai-proxy-multi on the same route (priority 1041 runs first and answers)', async () => {
    await send(`${gateway.url}/both`, { body: CHAT });
    assert.deepEqual(
      upstream.received.map((seen) => seen.url),
      ['/multi'],
    );
    await gateway.waitForAccessLines(1);
  });
});
