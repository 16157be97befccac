import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type AiGateway,
  jsonAnswer,
  type ScriptedUpstream,
  send,
  singleInstanceRoute,
  sseAnswer,
  sseData,
  startAiGateway,
  startScriptedUpstream,
} from './ai-protocol-harness.js';

/**
 * LLM logging (ai-proxy-multi.md §8): the access line's top-level LLM keys, `logging.summaries` and
 * `logging.payloads` (§8.2), and that no credential ever reaches a log line.
 */

const CHAT = { model: 'client-model', user: 'end-user-1', messages: [{ role: 'user', content: 'Say hello.' }] };
const COMPLETION = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' },
    { index: 1, message: { role: 'assistant', content: 'there' }, finish_reason: 'stop' },
  ],
  usage: {
    prompt_tokens: 12,
    completion_tokens: 4,
    total_tokens: 16,
    prompt_tokens_details: { cached_tokens: 2 },
    completion_tokens_details: { reasoning_tokens: 1 },
  },
};

describe('access log LLM fields', () => {
  let upstream: ScriptedUpstream;
  let gateway: AiGateway;

  before(async () => {
    upstream = await startScriptedUpstream();
    const instance = {
      provider: 'openai-compatible',
      options: { model: 'upstream-model' },
      override: { endpoint: upstream.origin },
    };
    gateway = await startAiGateway({
      plain: singleInstanceRoute('/plain', instance),
      logged: singleInstanceRoute('/logged', instance, { logging: { summaries: true, payloads: true } }),
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

  it('puts the request type, models, tokens, times, instance and attempts at the top level', async () => {
    upstream.respondWith(jsonAnswer(COMPLETION));
    assert.equal((await send(`${gateway.url}/plain`, { body: CHAT })).status, 200);
    const [line] = await gateway.waitForAccessLines(1);
    assert.ok(line !== undefined);
    assert.equal(line.path, '/plain');
    assert.equal(line.request_type, 'ai_chat');
    assert.equal(line.request_llm_model, 'client-model');
    assert.equal(line.llm_model, 'upstream-model');
    assert.equal(line.llm_prompt_tokens, 12);
    assert.equal(line.llm_completion_tokens, 4);
    assert.equal(line.picked_ai_instance_name, 'only');
    assert.equal(line.ai_attempts, 1);
    for (const key of ['llm_time_to_first_token', 'apisix_upstream_response_time']) {
      assert.ok(Number.isInteger(line[key]), `${key} is integer milliseconds`);
    }
    assert.equal(line.llm_summary, undefined, 'no summary unless logging.summaries');
    assert.equal(line.llm_request, undefined, 'no payloads unless logging.payloads');
  });

  it('logging.summaries and payloads add llm_summary, llm_request and llm_response_text (§8.2)', async () => {
    upstream.respondWith(jsonAnswer(COMPLETION));
    await send(`${gateway.url}/logged`, {
      body: { ...CHAT, tools: [{ type: 'function', function: { name: 'f' } }] },
    });
    const [line] = await gateway.waitForAccessLines(1);
    assert.deepEqual(line?.llm_summary, {
      request_model: 'client-model',
      model: 'upstream-model',
      duration: line?.llm_time_to_first_token,
      prompt_tokens: 12,
      completion_tokens: 4,
      total_tokens: 16,
      upstream_response_time: line?.apisix_upstream_response_time,
      stream: false,
      tool_count: 1,
      has_tool_calls: false,
      end_user_id: 'end-user-1',
      cache_read_input_tokens: 2,
      cache_creation_input_tokens: 0,
      reasoning_tokens: 1,
      content_risk_level: '',
    });
    assert.deepEqual(line?.llm_request, { messages: CHAT.messages, stream: false });
    assert.deepEqual(line?.llm_response_text, { content: 'Hello there' });
  });

  it('a stream logs its concatenated text, tool calls and merged usage', async () => {
    const chunk = (delta: object) => sseData({ choices: [{ index: 0, delta, finish_reason: null }] });
    upstream.respondWith(
      sseAnswer([
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({ tool_calls: [{ index: 0, id: 't', function: { name: 'f', arguments: '{}' } }] }),
        sseData({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }),
        'data: [DONE]\n\n',
      ]),
    );
    await send(`${gateway.url}/logged`, { body: { ...CHAT, stream: true } });
    const [line] = await gateway.waitForAccessLines(1);
    assert.equal(line?.request_type, 'ai_stream');
    assert.deepEqual(line?.llm_response_text, { content: 'Hello' });
    assert.deepEqual(line?.llm_request, { messages: CHAT.messages, stream: true });
    const summary = line?.llm_summary as Record<string, unknown>;
    assert.equal(summary.stream, true);
    assert.equal(summary.has_tool_calls, true);
    assert.equal(summary.total_tokens, 5);
  });
});

describe('credentials never reach a log line', () => {
  const SECRETS = {
    header: 'sk-header-secret-1f3a',
    query: 'sk-query-secret-9b2c',
    clientKey: 'sk-client-secret-77aa',
    awsSecret: 'aws-secret-access-key-31c9',
    awsSession: 'aws-session-token-8d20',
  };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  /** A line of the key's base64 body: any leak of the key would contain it. */
  const keyFragment = pem.split('\n')[5] ?? '';

  let upstream: ScriptedUpstream;
  let tokenServer: http.Server;
  let gateway: AiGateway;

  before(async () => {
    upstream = await startScriptedUpstream();
    tokenServer = http.createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"internal"}');
    });
    tokenServer.listen(0, '127.0.0.1');
    await once(tokenServer, 'listening');
    const tokenUri = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    const auth = { header: { Authorization: `Bearer ${SECRETS.header}` }, query: { api_key: SECRETS.query } };
    const logging = { logging: { summaries: true, payloads: true } };
    gateway = await startAiGateway({
      ok: singleInstanceRoute(
        '/ok',
        { provider: 'openai-compatible', auth, override: { endpoint: upstream.origin } },
        logging,
      ),
      refused: singleInstanceRoute(
        '/refused',
        { provider: 'openai-compatible', auth, override: { endpoint: 'http://127.0.0.1:1' } },
        logging,
      ),
      aws: singleInstanceRoute(
        '/aws/*',
        {
          provider: 'bedrock',
          provider_conf: { region: 'us-east-1' },
          auth: {
            aws: {
              access_key_id: 'AKIDEXAMPLE',
              secret_access_key: SECRETS.awsSecret,
              session_token: SECRETS.awsSession,
            },
          },
          options: { model: 'm' },
          override: { endpoint: upstream.origin },
        },
        logging,
      ),
      gcp: singleInstanceRoute(
        '/gcp',
        {
          provider: 'vertex-ai',
          auth: {
            gcp: {
              service_account_json: JSON.stringify({
                type: 'service_account',
                client_email: 'gateway@project.iam.gserviceaccount.com',
                private_key: pem,
                token_uri: tokenUri,
              }),
            },
          },
          provider_conf: { project_id: 'p', region: 'r' },
          override: { endpoint: upstream.origin },
        },
        logging,
      ),
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    tokenServer.closeAllConnections();
    tokenServer.close();
  });

  it('not in access lines nor operational logs, whatever the outcome', async () => {
    const headers = { authorization: `Bearer ${SECRETS.clientKey}` };
    upstream.respondWith(jsonAnswer({ choices: [{ message: { content: 'hi' } }] }));
    assert.equal(
      (await send(`${gateway.url}/ok?apikey=${SECRETS.clientKey}`, { headers, body: { messages: [] } })).status,
      200,
    );
    upstream.respondWith(jsonAnswer({ error: { message: 'down' } }, 500));
    assert.equal((await send(`${gateway.url}/ok`, { headers, body: { messages: [] } })).status, 500);
    upstream.respondWith(sseAnswer([sseData({ choices: [{ delta: { content: 'x' } }] })]));
    assert.equal((await send(`${gateway.url}/ok`, { headers, body: { messages: [], stream: true } })).status, 200);
    assert.equal((await send(`${gateway.url}/refused`, { headers, body: { messages: [] } })).status, 500);
    upstream.respondWith(jsonAnswer({ message: 'throttled' }, 429));
    assert.equal((await send(`${gateway.url}/aws/model/m/converse`, { headers, body: { messages: [] } })).status, 429);
    const gcp = await send(`${gateway.url}/gcp`, { headers, body: { messages: [] } });
    assert.equal(gcp.status, 500);
    assert.match(gcp.text, /failed to get gcp access token/);
    await gateway.waitForAccessLines(6);

    const logs = gateway.allLogText();
    assert.ok(logs.includes('failed to send request to LLM server'), 'the failures were logged');
    for (const [name, secret] of Object.entries({ ...SECRETS, privateKey: keyFragment })) {
      assert.ok(!logs.includes(secret), `${name} appears in the logs`);
    }
    assert.ok(
      upstream.received.some((seen) => seen.url.includes(SECRETS.query)),
      'the upstream did get the query key',
    );
    assert.ok(
      upstream.received.some((seen) => seen.headers['x-amz-security-token'] === SECRETS.awsSession),
      'the upstream did get the signed request',
    );
  });
});
