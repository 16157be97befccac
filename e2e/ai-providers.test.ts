import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { type AdminClient, admin } from './support/admin-client.js';
import { aiRoute } from './support/ai-routes.js';
import { httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { type SwitchboardNode, startSwitchboard } from './support/switchboard.js';

/**
 * Providers through the real `bin/switchboard` (ai-proxy-multi.md §4): a traditional node whose
 * instances point `override.endpoint` at the mock LLM, so each provider's default path, auth and body
 * quirks show in what the mock receives. vertex-ai authenticates with the service account the CLI reads
 * from `GCP_SERVICE_ACCOUNT` (§4.8), against a token endpoint in this test; bedrock requests are SigV4
 * signed (§4.9).
 */

const MESSAGES = [{ role: 'user', content: 'Say hello.' }];

/** A Google-style token endpoint: counts exchanges, answers one token. */
async function startTokenEndpoint() {
  const forms: URLSearchParams[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    forms.push(new URLSearchParams(Buffer.concat(chunks).toString()));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'ya29.e2e-token', expires_in: 3600, token_type: 'Bearer' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    forms,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('providers through bin/switchboard', { timeout: 60_000 }, () => {
  let node: SwitchboardNode;
  let api: AdminClient;
  let mock: MockLlm;
  let tokens: Awaited<ReturnType<typeof startTokenEndpoint>>;

  before(async () => {
    [mock, tokens] = await Promise.all([startMockLlm({ name: 'providers' }), startTokenEndpoint()]);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const serviceAccount = JSON.stringify({
      type: 'service_account',
      client_email: 'e2e@project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      token_uri: tokens.url,
    });
    node = await startSwitchboard({
      role: 'traditional',
      env: { GCP_SERVICE_ACCOUNT: serviceAccount, SB_E2E_PROVIDER_KEYS: JSON.stringify({ openai: 'sk-from-env' }) },
    });
    api = admin(node.adminUrl ?? '', node.adminKey);
  });
  after(async () => {
    await Promise.all([node?.stop(), mock?.close(), tokens?.close()]);
  });

  /** PUTs a one-instance route and waits until the proxy serves it. */
  async function route(id: string, uri: string, instance: Record<string, unknown>, probe: object): Promise<void> {
    const put = await api.put(`/routes/${id}`, aiRoute({ uri, instances: [{ name: id, weight: 1, ...instance }] }));
    assert.equal(put.status, 201, put.text);
    await pollUntil(async () => (await httpRequest(`${node.proxyUrl}${uri}`, { body: probe })).status !== 404, {
      timeoutMs: 10_000,
      description: `route ${uri}`,
    });
    mock.clear();
  }

  test('deepseek: the endpoint host with the provider path, auth header, llm_options → max_tokens', async () => {
    const body = { model: 'deepseek-chat', messages: MESSAGES };
    await route(
      'deepseek',
      '/deepseek',
      {
        provider: 'deepseek',
        auth: { header: { Authorization: 'Bearer sk-deepseek' } },
        override: { endpoint: mock.url, llm_options: { max_tokens: 32 } },
      },
      body,
    );
    const response = await httpRequest(`${node.proxyUrl}/deepseek?ignored=1`, { body });
    assert.equal(response.status, 200, response.text);
    const [received] = mock.requests();
    assert.equal(received?.method, 'POST');
    assert.equal(received?.path, '/chat/completions');
    assert.deepEqual(received?.query, {});
    assert.equal(received?.headers.authorization, 'Bearer sk-deepseek');
    assert.deepEqual(received?.json, { ...body, max_tokens: 32 });
  });

  test('azure-openai: the deployment URL and api-version, api-key, no model in the body', async () => {
    const body = { model: 'client-model', messages: MESSAGES };
    await route(
      'azure',
      '/azure',
      {
        provider: 'azure-openai',
        auth: { header: { 'api-key': 'az-key' } },
        override: { endpoint: `${mock.url}/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21` },
      },
      body,
    );
    const response = await httpRequest(`${node.proxyUrl}/azure`, { body });
    assert.equal(response.status, 200, response.text);
    const [received] = mock.requests();
    assert.equal(received?.path, '/openai/deployments/gpt4o/chat/completions');
    assert.deepEqual(received?.query, { 'api-version': '2024-10-21' });
    assert.equal(received?.headers['api-key'], 'az-key');
    assert.deepEqual(received?.json, { messages: MESSAGES });
  });

  test('vertex-ai: a token for the GCP_SERVICE_ACCOUNT account, fetched once, sent as Bearer', async () => {
    const body = { model: 'google/gemini-2.0-flash', messages: MESSAGES };
    await route(
      'vertex',
      '/vertex',
      {
        provider: 'vertex-ai',
        provider_conf: { project_id: 'e2e-project', region: 'us-central1' },
        auth: { gcp: {} },
        override: { endpoint: mock.url },
      },
      body,
    );
    for (let index = 0; index < 3; index++) {
      const response = await httpRequest(`${node.proxyUrl}/vertex`, {
        headers: { authorization: 'Bearer client' },
        body,
      });
      assert.equal(response.status, 200, response.text);
    }
    const received = mock.requests();
    assert.equal(received.length, 3);
    for (const request of received) {
      assert.equal(
        request.path,
        '/v1beta1/projects/e2e-project/locations/us-central1/endpoints/openapi/chat/completions',
      );
      assert.equal(request.headers.authorization, 'Bearer ya29.e2e-token');
    }
    // The route probe made the first exchange; every later request reused its token.
    assert.equal(tokens.forms.length, 1, 'one token exchange for every request of the worker');
    assert.equal(tokens.forms[0]?.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  });

  test('bedrock: /model/<model>/converse, SigV4-signed, no model in the body', async () => {
    const body = { messages: [{ role: 'user', content: [{ text: 'Say hello.' }] }] };
    await route(
      'bedrock',
      '/bedrock/converse',
      {
        provider: 'bedrock',
        provider_conf: { region: 'us-west-2' },
        auth: { aws: { access_key_id: 'AKIDE2E', secret_access_key: 'e2e-secret' } },
        options: { model: 'anthropic.claude-3-haiku-20240307-v1:0' },
        override: { endpoint: mock.url },
      },
      body,
    );
    const response = await httpRequest(`${node.proxyUrl}/bedrock/converse`, { body });
    assert.equal(response.status, 200, response.text);
    const [received] = mock.requests();
    assert.equal(received?.path, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    assert.match(String(received?.headers['x-amz-date']), /^\d{8}T\d{6}Z$/);
    assert.match(
      String(received?.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDE2E\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    assert.deepEqual(received?.json, body);
  });

  test('$env:// in auth.header: the key comes from the environment of bin/switchboard (§1.5)', async () => {
    const body = { model: 'gpt-4o', messages: MESSAGES };
    await route(
      'env-ref',
      '/env-ref',
      {
        provider: 'openai',
        auth: { header: { 'x-api-key': '$env://SB_E2E_PROVIDER_KEYS/openai' } },
        override: { endpoint: mock.url },
      },
      body,
    );
    const response = await httpRequest(`${node.proxyUrl}/env-ref`, { body });
    assert.equal(response.status, 200, response.text);
    const [received] = mock.requests();
    assert.equal(received?.path, '/v1/chat/completions');
    assert.equal(received?.headers['x-api-key'], 'sk-from-env');
  });
});
