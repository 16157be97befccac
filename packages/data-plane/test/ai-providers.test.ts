import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Dispatcher, Pool } from 'undici';
import { signAwsRequest } from '../src/plugins/ai-proxy-multi/auth/aws-sigv4.js';
import { createAiProxyMultiPlugin } from '../src/plugins/ai-proxy-multi/plugin.js';
import { keyAuthPlugin } from '../src/plugins/key-auth.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import type { DispatcherRegistry } from '../src/plugins/runtime-plugin.js';
import { createProxyServer, type ProxyServer } from '../src/server/proxy-server.js';
import {
  createEventStreamDecoder,
  type EventStreamHeaderValue,
  encodeEventStreamMessage,
  eventStreamHeaderString,
} from '../src/upstream/aws-eventstream.js';
import { captureLogger, createTempStore, defaultConfig, request, type TempStore } from './support/harness.js';

/**
 * Every provider of ai-proxy-multi (ai-proxy-multi.md §4.1–§4.9) through the real data-plane pipeline,
 * with instances configured as in production: no `override.endpoint` unless the provider needs one.
 * The dispatcher registry sends every upstream origin to one local recording mock, keeping the origin's
 * Host, so each row shows what the provider's real host would receive: method, origin, path and query,
 * auth headers and the body after the provider's quirks.
 */

interface Received {
  /** The origin the gateway meant to call (scheme://host[:port]). */
  readonly origin: string;
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const ORIGIN_HEADER = 'x-test-intended-origin';

/** An undici dispatcher that sends every request to the mock, with the Host of the intended origin. */
class RedirectingDispatcher extends Dispatcher {
  constructor(
    private readonly target: Pool,
    private readonly intended: string,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const headers = { ...(options.headers as Record<string, string>) };
    headers.host = new URL(this.intended).host;
    headers[ORIGIN_HEADER] = this.intended;
    return this.target.dispatch({ ...options, headers }, handler);
  }

  override async close(): Promise<void> {}
  override async destroy(): Promise<void> {}
}

function redirectingRegistry(mockOrigin: string): DispatcherRegistry & { close(): Promise<void> } {
  const pool = new Pool(mockOrigin);
  const dispatchers = new Map<string, RedirectingDispatcher>();
  return {
    get(origin) {
      let dispatcher = dispatchers.get(origin);
      if (dispatcher === undefined) {
        dispatcher = new RedirectingDispatcher(pool, origin);
        dispatchers.set(origin, dispatcher);
      }
      return dispatcher;
    },
    close: () => pool.close(),
  };
}

const CHAT_COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const CONVERSE = JSON.stringify({
  output: { message: { role: 'assistant', content: [{ text: 'hello' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
});

function converseStreamFrame(eventType: string, payload: object): Buffer {
  return encodeEventStreamMessage({
    headers: new Map<string, EventStreamHeaderValue>([
      [':event-type', { type: 'string', value: eventType }],
      [':content-type', { type: 'string', value: 'application/json' }],
      [':message-type', { type: 'string', value: 'event' }],
    ]),
    payload: Buffer.from(JSON.stringify(payload)),
  });
}

const CONVERSE_STREAM = [
  converseStreamFrame('messageStart', { role: 'assistant' }),
  converseStreamFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hel' } }),
  converseStreamFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' } }),
  converseStreamFrame('messageStop', { stopReason: 'end_turn' }),
  converseStreamFrame('metadata', { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: {} }),
];

/** The one upstream every provider reaches: records each request, answers in the provider's format. */
async function startRecordingMock() {
  const received: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { [ORIGIN_HEADER]: origin, ...headers } = req.headers;
    const url = req.url ?? '';
    received.push({
      origin: String(origin),
      method: req.method ?? '',
      url,
      headers,
      body: Buffer.concat(chunks).toString(),
    });
    if (url === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'ya29.mock-token', expires_in: 3600 }));
    } else if (url.includes('/converse-stream')) {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      for (const frame of CONVERSE_STREAM) res.write(frame);
      res.end();
    } else if (url.includes('/converse')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(CONVERSE);
    } else if (url.includes(':predict')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ predictions: [{ embeddings: { values: [0.5], statistics: { token_count: 2 } } }] }));
    } else if (url.startsWith('/v1/messages')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: 'hello' }],
          usage: { input_tokens: 3, output_tokens: 1 },
        }),
      );
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(CHAT_COMPLETION);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const WALL_CLOCK = Date.UTC(2025, 5, 1, 8, 30, 0);
const AWS = { access_key_id: 'AKIDTEST', secret_access_key: 'secret/key', session_token: 'session-token' };
const MESSAGES = [{ role: 'user', content: 'hi' }];
const CONVERSE_MESSAGES = [{ role: 'user', content: [{ text: 'hi' }] }];

interface ProviderCase {
  readonly name: string;
  readonly instance: Record<string, unknown>;
  /** Client request; path defaults to /v1/chat/completions. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
  readonly expected: {
    readonly status?: number;
    readonly origin: string;
    readonly url: string;
    /** Headers that must be present with these values (undefined: must be absent). */
    readonly headers: Readonly<Record<string, string | RegExp | undefined>>;
    readonly body: Record<string, unknown>;
  };
}

const table: ProviderCase[] = [
  {
    name: 'openai chat: default host and path, llm_options → max_completion_tokens (max_tokens deleted)',
    instance: {
      provider: 'openai',
      auth: { header: { Authorization: 'Bearer sk-openai' } },
      options: { model: 'gpt-4o' },
      override: { llm_options: { max_tokens: 64 } },
    },
    body: { model: 'client-model', max_tokens: 10, messages: MESSAGES },
    expected: {
      origin: 'https://api.openai.com',
      url: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-openai', 'content-type': 'application/json' },
      body: { model: 'gpt-4o', max_completion_tokens: 64, messages: MESSAGES },
    },
  },
  {
    name: 'openai responses: /v1/responses, llm_options → max_output_tokens',
    instance: {
      provider: 'openai',
      auth: { header: { Authorization: 'Bearer sk-openai' } },
      override: { llm_options: { max_tokens: 64 } },
    },
    path: '/v1/responses',
    body: { model: 'gpt-4o', input: 'hi' },
    expected: {
      origin: 'https://api.openai.com',
      url: '/v1/responses',
      headers: { authorization: 'Bearer sk-openai' },
      body: { model: 'gpt-4o', input: 'hi', max_output_tokens: 64 },
    },
  },
  {
    name: 'openai embeddings: /v1/embeddings, auth by query',
    instance: { provider: 'openai', auth: { query: { 'api-key': 'q-key' } } },
    path: '/v1/embeddings',
    body: { model: 'text-embedding-3-small', input: 'hi' },
    expected: {
      origin: 'https://api.openai.com',
      url: '/v1/embeddings?api-key=q-key',
      headers: { authorization: undefined },
      body: { model: 'text-embedding-3-small', input: 'hi' },
    },
  },
  {
    name: 'openai-compatible: the endpoint host, OpenAI path, llm_options → max_tokens',
    instance: {
      provider: 'openai-compatible',
      auth: { header: { Authorization: 'Bearer local' } },
      override: { endpoint: 'http://llm.internal:8080', llm_options: { max_tokens: 64 } },
    },
    body: { model: 'local-model', messages: MESSAGES },
    expected: {
      origin: 'http://llm.internal:8080',
      url: '/v1/chat/completions',
      headers: { authorization: 'Bearer local' },
      body: { model: 'local-model', messages: MESSAGES, max_tokens: 64 },
    },
  },
  {
    name: 'deepseek: /chat/completions without /v1, max_tokens',
    instance: {
      provider: 'deepseek',
      auth: { header: { Authorization: 'Bearer sk-deepseek' } },
      options: { model: 'deepseek-chat' },
      override: { llm_options: { max_tokens: 64 } },
    },
    body: { messages: MESSAGES },
    expected: {
      origin: 'https://api.deepseek.com',
      url: '/chat/completions',
      headers: { authorization: 'Bearer sk-deepseek' },
      body: { model: 'deepseek-chat', messages: MESSAGES, max_tokens: 64 },
    },
  },
  {
    name: 'aimlapi: /chat/completions',
    instance: { provider: 'aimlapi', auth: { header: { Authorization: 'Bearer aiml' } } },
    body: { model: 'gpt-4o', messages: MESSAGES },
    expected: {
      origin: 'https://api.aimlapi.com',
      url: '/chat/completions',
      headers: { authorization: 'Bearer aiml' },
      body: { model: 'gpt-4o', messages: MESSAGES },
    },
  },
  {
    name: 'anthropic with an OpenAI client: its OpenAI-compatible endpoint, unconverted',
    instance: {
      provider: 'anthropic',
      auth: { header: { 'x-api-key': 'sk-ant' } },
      override: { llm_options: { max_tokens: 64 } },
    },
    body: { model: 'claude-sonnet-4', messages: MESSAGES },
    expected: {
      origin: 'https://api.anthropic.com',
      url: '/v1/chat/completions',
      headers: { 'x-api-key': 'sk-ant', 'anthropic-version': undefined },
      body: { model: 'claude-sonnet-4', messages: MESSAGES, max_tokens: 64 },
    },
  },
  {
    name: 'anthropic Messages natively: /v1/messages, client anthropic-version kept, max_tokens overwritten',
    instance: {
      provider: 'anthropic',
      auth: { header: { 'x-api-key': 'sk-ant' } },
      override: { llm_options: { max_tokens: 64 } },
    },
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01', 'x-api-key': 'client-key' },
    body: { model: 'claude-sonnet-4', max_tokens: 1024, messages: MESSAGES },
    expected: {
      origin: 'https://api.anthropic.com',
      url: '/v1/messages',
      headers: { 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01' },
      body: { model: 'claude-sonnet-4', max_tokens: 64, messages: MESSAGES },
    },
  },
  {
    name: 'openrouter: /api/v1/chat/completions',
    instance: {
      provider: 'openrouter',
      auth: { header: { Authorization: 'Bearer or' } },
      override: { llm_options: { max_tokens: 64 } },
    },
    body: { model: 'openai/gpt-4o', messages: MESSAGES },
    expected: {
      origin: 'https://openrouter.ai',
      url: '/api/v1/chat/completions',
      headers: { authorization: 'Bearer or' },
      body: { model: 'openai/gpt-4o', messages: MESSAGES, max_tokens: 64 },
    },
  },
  {
    name: 'gemini: the OpenAI-compatible path, llm_options → max_completion_tokens (max_tokens kept)',
    instance: {
      provider: 'gemini',
      auth: { header: { Authorization: 'Bearer gm' } },
      override: { llm_options: { max_tokens: 64 } },
    },
    body: { model: 'gemini-2.0-flash', max_tokens: 10, messages: MESSAGES },
    expected: {
      origin: 'https://generativelanguage.googleapis.com',
      url: '/v1beta/openai/chat/completions',
      headers: { authorization: 'Bearer gm' },
      body: { model: 'gemini-2.0-flash', max_tokens: 10, max_completion_tokens: 64, messages: MESSAGES },
    },
  },
  {
    name: 'azure-openai: the deployment URL with api-version, api-key header, model removed',
    instance: {
      provider: 'azure-openai',
      auth: { header: { 'api-key': 'az-key' } },
      options: { model: 'gpt-4o' },
      override: {
        endpoint:
          'https://my-resource.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21',
        llm_options: { max_tokens: 64 },
      },
    },
    body: { model: 'client-model', messages: MESSAGES },
    expected: {
      origin: 'https://my-resource.openai.azure.com',
      url: '/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21',
      headers: { 'api-key': 'az-key' },
      body: { messages: MESSAGES, max_tokens: 64 },
    },
  },
  {
    name: 'vertex-ai chat: regional host, project path, GCP token from the service account, max_completion_tokens',
    instance: {
      provider: 'vertex-ai',
      provider_conf: { project_id: 'my-project', region: 'us-central1' },
      auth: { gcp: {} },
      options: { model: 'google/gemini-2.0-flash' },
      override: { llm_options: { max_tokens: 64 } },
    },
    headers: { authorization: 'Bearer client' },
    body: { messages: MESSAGES },
    expected: {
      origin: 'https://us-central1-aiplatform.googleapis.com',
      url: '/v1beta1/projects/my-project/locations/us-central1/endpoints/openapi/chat/completions',
      headers: { authorization: 'Bearer ya29.mock-token' },
      body: { model: 'google/gemini-2.0-flash', messages: MESSAGES, max_completion_tokens: 64 },
    },
  },
  {
    name: 'vertex-ai embeddings: converted to the publisher model :predict',
    instance: {
      provider: 'vertex-ai',
      provider_conf: { project_id: 'my-project', region: 'europe-west4' },
      auth: { header: { Authorization: 'Bearer static-token' } },
      options: { model: 'text-embedding-004' },
    },
    path: '/v1/embeddings',
    body: { input: 'hello world' },
    expected: {
      origin: 'https://europe-west4-aiplatform.googleapis.com',
      url: '/v1/projects/my-project/locations/europe-west4/publishers/google/models/text-embedding-004:predict',
      headers: { authorization: 'Bearer static-token' },
      // §4.4 step 2 runs after conversion: `options` keys land in the predict body too, as in APISIX.
      body: { instances: [{ content: 'hello world' }], model: 'text-embedding-004' },
    },
  },
  {
    name: 'bedrock Converse: regional runtime host, model in the path, SigV4, model/stream removed',
    instance: {
      provider: 'bedrock',
      provider_conf: { region: 'us-east-1' },
      auth: { aws: AWS },
      options: { model: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
      override: { llm_options: { max_tokens: 100 } },
    },
    path: '/bedrock/converse',
    headers: { authorization: 'Bearer client' },
    body: { model: 'client-model', messages: CONVERSE_MESSAGES, inferenceConfig: { temperature: 0.2 } },
    expected: {
      origin: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      url: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse',
      headers: {
        authorization:
          /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/20250601\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
        'x-amz-date': '20250601T083000Z',
        'x-amz-security-token': 'session-token',
      },
      body: { messages: CONVERSE_MESSAGES, inferenceConfig: { temperature: 0.2, maxTokens: 100 } },
    },
  },
  {
    name: 'bedrock ConverseStream: /converse-stream when the client streams, the client model in the path',
    instance: { provider: 'bedrock', provider_conf: { region: 'eu-west-1' }, auth: { aws: AWS } },
    path: '/bedrock/converse',
    body: { model: 'amazon.nova-lite-v1:0', stream: true, messages: CONVERSE_MESSAGES },
    expected: {
      origin: 'https://bedrock-runtime.eu-west-1.amazonaws.com',
      url: '/model/amazon.nova-lite-v1%3A0/converse-stream',
      headers: { authorization: /Credential=AKIDTEST\/20250601\/eu-west-1\/bedrock\/aws4_request/ },
      body: { messages: CONVERSE_MESSAGES },
    },
  },
];

describe('every provider through the data-plane pipeline (ai-proxy-multi.md §4)', { timeout: 60_000 }, () => {
  let mock: Awaited<ReturnType<typeof startRecordingMock>>;
  let store: TempStore;
  let proxy: ProxyServer;
  let registry: ReturnType<typeof redirectingRegistry>;
  let gatewayUrl: string;
  let serviceAccountJson: string;

  before(async () => {
    mock = await startRecordingMock();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // No token_uri: Google's default, which the registry sends to the mock like every origin.
    serviceAccountJson = JSON.stringify({
      client_email: 'gw@my-project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    });
    store = await createTempStore();
    registry = redirectingRegistry(mock.origin);
    const aiProxyMulti = createAiProxyMultiPlugin({
      random: () => 0,
      now: () => performance.now(),
      providerEnv: { GCP_SERVICE_ACCOUNT: serviceAccountJson },
      wallClock: () => WALL_CLOCK,
    });
    proxy = createProxyServer({
      source: store.store,
      prefix: '/apisix',
      logger: captureLogger('warn').logger,
      dataEncryption: defaultConfig().apisix.data_encryption,
      dispatchers: registry,
      plugins: createRuntimePluginRegistry({ random: () => 0, now: () => 0 }, [keyAuthPlugin, aiProxyMulti]),
    });
    const [address] = await proxy.listen([{ ip: '127.0.0.1', port: 0 }]);
    gatewayUrl = `http://127.0.0.1:${address?.port}`;
    await proxy.ready;
  });
  beforeEach(() => {
    mock.received.length = 0;
  });
  after(async () => {
    await proxy.close();
    await registry.close();
    await store.close();
    await mock.close();
  });

  let routeCount = 0;
  /** PUTs a route with one instance at `path` and waits until the proxy applied it. */
  async function routeTo(instance: Record<string, unknown>, path: string): Promise<string> {
    routeCount += 1;
    const uri = `/case-${routeCount}${path}`;
    const revision = await store.put(`/apisix/routes/${routeCount}`, {
      uri,
      plugins: { 'ai-proxy-multi': { instances: [{ name: 'only', weight: 1, ...instance }] } },
    });
    const deadline = Date.now() + 10_000;
    while (proxy.revision() < revision) {
      if (Date.now() > deadline) throw new Error(`route ${routeCount} was not applied`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return uri;
  }

  for (const row of table) {
    it(row.name, async () => {
      const uri = await routeTo(row.instance, row.path ?? '/v1/chat/completions');
      const answer = await request(`${gatewayUrl}${uri}?client=query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...row.headers },
        body: JSON.stringify(row.body),
      });
      assert.equal(answer.status, row.expected.status ?? 200, answer.text);

      const calls = mock.received.filter((call) => call.url !== '/token');
      assert.equal(calls.length, 1, 'one upstream call');
      const [call] = calls;
      assert.ok(call);
      assert.equal(call.method, 'POST');
      assert.equal(call.origin, row.expected.origin);
      assert.equal(call.url, row.expected.url, 'path and query; the client query is not forwarded');
      for (const [name, expected] of Object.entries(row.expected.headers)) {
        const actual: string | string[] | undefined = call.headers[name];
        if (expected instanceof RegExp) assert.match(String(actual), expected, name);
        else assert.equal(actual, expected, name);
      }
      assert.deepEqual(JSON.parse(call.body), row.expected.body);
    });
  }

  it('vertex-ai fetches its token from the service account token URI with the JWT bearer grant', async () => {
    const uri = await routeTo(
      {
        provider: 'vertex-ai',
        provider_conf: { project_id: 'p', region: 'us-east5' },
        auth: { gcp: { service_account_json: serviceAccountJson, max_ttl: 30 } },
      },
      '/v1/chat/completions',
    );
    const answer = await request(`${gatewayUrl}${uri}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'google/gemini-2.0-flash', messages: MESSAGES }),
    });
    assert.equal(answer.status, 200, answer.text);
    const [token, call] = mock.received;
    assert.equal(token?.origin, 'https://oauth2.googleapis.com');
    assert.equal(token?.url, '/token');
    assert.equal(token?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.match(
      token?.body ?? '',
      /^grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=[\w-]+\.[\w-]+\.[\w-]+$/,
    );
    assert.equal(call?.origin, 'https://us-east5-aiplatform.googleapis.com');
    assert.equal(call?.headers.authorization, 'Bearer ya29.mock-token');
  });

  it('bedrock: the signature the upstream receives is the one its request computes to', async () => {
    const row = table.find((candidate) => candidate.name.startsWith('bedrock Converse:'));
    assert.ok(row);
    const uri = await routeTo(row.instance, row.path ?? '');
    await request(`${gatewayUrl}${uri}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'client/1.0', 'x-amz-meta': 'kept' },
      body: JSON.stringify(row.body),
    });
    const [call] = mock.received;
    assert.ok(call);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers)) {
      if (typeof value === 'string' && name !== 'authorization' && name !== 'x-amz-date') headers[name] = value;
    }
    const recomputed = signAwsRequest(
      { method: call.method, host: String(call.headers.host), pathAndQuery: call.url, headers, body: call.body },
      {
        credentials: { accessKeyId: AWS.access_key_id, secretAccessKey: AWS.secret_access_key },
        region: 'us-east-1',
        service: 'bedrock',
        nowMs: WALL_CLOCK,
      },
    );
    assert.equal(call.headers.host, 'bedrock-runtime.us-east-1.amazonaws.com');
    assert.match(
      String(call.headers.authorization),
      /SignedHeaders=content-type;host;x-amz-date;x-amz-meta;x-amz-security-token,/,
    );
    assert.equal(call.headers.authorization, recomputed.headers.authorization);
  });

  it('bedrock ConverseStream: the client receives the EventStream frames', async () => {
    const row = table.find((candidate) => candidate.name.startsWith('bedrock ConverseStream'));
    assert.ok(row);
    const uri = await routeTo(row.instance, row.path ?? '');
    const response = await fetch(`${gatewayUrl}${uri}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(row.body),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.amazon.eventstream');
    const decoder = createEventStreamDecoder();
    const messages = decoder.push(Buffer.from(await response.arrayBuffer()));
    decoder.end();
    assert.deepEqual(
      messages.map((message) => eventStreamHeaderString(message, ':event-type')),
      ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'messageStop', 'metadata'],
    );
  });

  const failures: {
    name: string;
    instance: Record<string, unknown>;
    path: string;
    body: Record<string, unknown>;
    status: number;
    message: string;
  }[] = [
    {
      name: 'bedrock without any model → 400 could not resolve upstream path',
      instance: { provider: 'bedrock', provider_conf: { region: 'us-east-1' }, auth: { aws: AWS } },
      path: '/bedrock/converse',
      body: { messages: CONVERSE_MESSAGES },
      status: 400,
      message:
        'could not resolve upstream path: ensure the route or request body specifies a model, or that override.endpoint includes a path',
    },
    {
      name: 'vertex-ai embeddings without a model → 400 (deliberate fix of Q13)',
      instance: {
        provider: 'vertex-ai',
        provider_conf: { project_id: 'p', region: 'us-central1' },
        auth: { header: { Authorization: 'Bearer t' } },
      },
      path: '/v1/embeddings',
      body: { input: 'x' },
      status: 400,
      message:
        'could not resolve upstream path: ensure the route or request body specifies a model, or that override.endpoint includes a path',
    },
    {
      name: 'a protocol the provider does not speak → 400 naming the ones it does',
      instance: { provider: 'bedrock', provider_conf: { region: 'us-east-1' }, auth: { aws: AWS } },
      path: '/v1/responses',
      body: { input: 'hi' },
      status: 400,
      message: 'provider bedrock does not support openai-responses protocol (supported: bedrock-converse)',
    },
  ];
  for (const failure of failures) {
    it(failure.name, async () => {
      const uri = await routeTo(failure.instance, failure.path);
      const answer = await request(`${gatewayUrl}${uri}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(failure.body),
      });
      assert.equal(answer.status, failure.status, answer.text);
      assert.equal(answer.json<{ error: { message: string } }>().error.message, failure.message);
      assert.equal(mock.received.length, 0, 'nothing reached an upstream');
    });
  }
});
