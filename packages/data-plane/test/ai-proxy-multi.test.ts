import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AiProxyMultiSchema, compileChecker, SwitchboardError } from '@switchboard/core';
import { pino } from 'pino';
import type { AiProxyMultiConf, AiProxyMultiInstanceConf } from '../src/plugins/ai-proxy-multi/conf.js';
import { createAiProxyMultiPlugin } from '../src/plugins/ai-proxy-multi/plugin.js';
import type { PreparedAiProxyMulti } from '../src/plugins/ai-proxy-multi/prepare.js';
import type { RequestContext, RuntimePlugin } from '../src/plugins/runtime-plugin.js';
import { createDispatcherRegistry } from '../src/upstream/dispatchers.js';

// ---------------------------------------------------------------------------------------------------
// Harness: a minimal RequestContext over a real node:http request (the pipeline builds the real one).

/** Builds the RequestContext the pipeline would hand to `access`; `readBody` rejects like the pipeline's. */
export function createTestRequestContext(
  req: IncomingMessage,
  res: ServerResponse,
  options: { readonly upstreamHeaders?: ReadonlyMap<string, string | undefined> } = {},
): RequestContext {
  const url = new URL(req.url ?? '/', 'http://gateway.test');
  let body: Promise<Buffer> | undefined;
  return {
    req,
    res,
    vars: { get: () => undefined },
    path: url.pathname,
    routeKey: '/apisix/routes/1',
    routeId: '1',
    logger: pino({ level: 'silent' }),
    consumer: undefined,
    aiQuota: undefined,
    upstreamHeaders: new Map(options.upstreamHeaders ?? []),
    logFields: {},
    readBody(limitBytes) {
      body ??= new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= limitBytes) chunks.push(chunk);
        });
        req.on('end', () => {
          if (size > limitBytes) {
            reject(
              new SwitchboardError(
                'SB_ERR_BODY_TOO_LARGE',
                `request size ${size} is greater than the maximum size ${limitBytes} allowed`,
              ),
            );
          } else resolve(Buffer.concat(chunks));
        });
        req.on('error', reject);
      });
      return body;
    },
  };
}

interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

type MockHandler = (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void | Promise<void>;

const CHAT_COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
});

const answerChatCompletion: MockHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-1' });
  res.end(CHAT_COMPLETION);
};

/** A tiny OpenAI-like upstream that records what it received; each test chooses its behaviour. */
async function startMockUpstream() {
  const received: ReceivedRequest[] = [];
  let handler: MockHandler = answerChatCompletion;
  let connections = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    received.push(record);
    await handler(req, res, record);
  });
  server.on('connection', () => {
    connections += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    respondWith(next: MockHandler) {
      handler = next;
    },
    reset() {
      received.length = 0;
      handler = answerChatCompletion;
      server.closeAllConnections();
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

type MockUpstream = Awaited<ReturnType<typeof startMockUpstream>>;

function instance(name: string, fields: Partial<AiProxyMultiInstanceConf> = {}): AiProxyMultiInstanceConf {
  return { name, provider: 'openai-compatible', weight: 1, auth: {}, ...fields };
}

const checkAiProxyMulti = compileChecker(AiProxyMultiSchema);

/** The conf as `prepare` receives it: validated and defaulted by the real schema (ai-proxy-multi.md §1.1). */
function multiConf(instances: AiProxyMultiInstanceConf[], fields: Partial<AiProxyMultiConf> = {}): AiProxyMultiConf {
  const checked = checkAiProxyMulti({ instances, ...fields });
  if (!checked.ok) throw new Error(checked.message);
  const { timeout, max_req_body_size, keepalive, keepalive_timeout, keepalive_pool, ssl_verify } = checked.value;
  if (
    timeout === undefined ||
    max_req_body_size === undefined ||
    keepalive === undefined ||
    keepalive_timeout === undefined ||
    keepalive_pool === undefined ||
    ssl_verify === undefined
  ) {
    throw new Error('the schema did not default the transport fields');
  }
  return { ...checked.value, timeout, max_req_body_size, keepalive, keepalive_timeout, keepalive_pool, ssl_verify };
}

/** A node:http server whose every request runs the plugin's `access`, as the pipeline will. */
async function startGateway(
  conf: AiProxyMultiConf,
  options: { readonly upstreamHeaders?: ReadonlyMap<string, string | undefined>; readonly random?: () => number } = {},
) {
  const registry = createDispatcherRegistry();
  const plugin = createAiProxyMultiPlugin({ random: options.random ?? (() => 0), now: () => performance.now() });
  const prepared = plugin.prepare(conf, {
    holderKey: '/apisix/routes/1',
    logger: pino({ level: 'silent' }),
    dispatchers: registry,
  });
  const logs: Record<string, unknown>[] = [];
  const results: unknown[] = [];
  const responses: ServerResponse[] = [];
  const server = http.createServer(async (req, res) => {
    responses.push(res);
    const ctx = createTestRequestContext(req, res, options);
    res.on('close', () => logs.push(ctx.logFields));
    results.push(await plugin.access?.(ctx, prepared));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    results,
    responses,
    async close() {
      server.closeAllConnections();
      server.close();
      await registry.close();
    },
  };
}

interface ClientResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A plain node:http client, so the test controls every header the gateway sees. */
function send(
  url: string,
  options: {
    readonly path?: string;
    readonly method?: string;
    readonly headers?: OutgoingHttpHeaders;
    readonly body?: string | readonly string[];
  } = {},
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? '{"messages":[{"role":"user","content":"hi"}]}';
    const chunked = Array.isArray(body);
    const headers: OutgoingHttpHeaders = { 'content-type': 'application/json', ...options.headers };
    if (!chunked && !('content-length' in headers)) headers['content-length'] = Buffer.byteLength(body as string);
    const req = http.request(`${url}${options.path ?? '/v1/chat/completions'}`, {
      method: options.method ?? 'POST',
      headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    for (const part of chunked ? body : [body as string]) req.write(part);
    req.end();
  });
}

function openAiError(message: string, type: string, code: string): string {
  return JSON.stringify({ error: { message, type, code } });
}

/** Resolves when `predicate` holds, polling; rejects after the deadline (never a fixed sleep). */
async function waitFor(predicate: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Rejects if `promise` has not settled by the deadline. */
async function withDeadline<T>(promise: Promise<T>, what: string, deadlineMs = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), deadlineMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise with its resolver, for explicit handshakes between the mock and the client. */
function signal<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

// ---------------------------------------------------------------------------------------------------

describe('ai-proxy-multi access: what the upstream receives', () => {
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startMockUpstream();
  });
  beforeEach(() => upstream.reset());
  after(() => upstream.close());

  it('POSTs the client bytes verbatim to the provider path, with auth and forwarding rules applied', async () => {
    const gateway = await startGateway(
      multiConf([
        instance('only', {
          auth: { header: { Authorization: 'Bearer upstream-key' }, query: { api_key: 'secret' } },
          override: { endpoint: `${upstream.origin}?some_query=yes` },
        }),
      ]),
      {
        upstreamHeaders: new Map([
          ['X-Consumer-Username', 'jack'],
          ['x-remove-me', undefined],
        ]),
      },
    );
    try {
      const clientBody = '{"model":"gpt-4o",   "messages":[{"role":"user","content":"hi"}]}';
      const response = await send(gateway.url, {
        path: '/anything?client=1',
        method: 'GET',
        headers: {
          authorization: 'Bearer client-key',
          'accept-encoding': 'gzip, deflate',
          cookie: 'session=abc',
          'x-custom': 'kept',
          'x-remove-me': 'gone',
          host: 'client.example',
        },
        body: clientBody,
      });
      assert.equal(response.status, 200);

      const [seen] = upstream.received;
      assert.ok(seen);
      assert.equal(seen.method, 'POST');
      // §4.2: provider default path (the endpoint has none); auth.query plus endpoint query; no client query.
      assert.equal(seen.url, '/v1/chat/completions?api_key=secret&some_query=yes');
      assert.equal(seen.headers.authorization, 'Bearer upstream-key');
      assert.equal(seen.headers['accept-encoding'], undefined);
      assert.equal(seen.headers.host, upstream.origin.slice('http://'.length));
      assert.equal(seen.headers.cookie, 'session=abc');
      assert.equal(seen.headers['x-custom'], 'kept');
      assert.equal(seen.headers['x-consumer-username'], 'jack');
      assert.equal(seen.headers['x-remove-me'], undefined);
      assert.equal(seen.headers['content-type'], 'application/json');
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(clientBody)));
      assert.equal(seen.body.toString(), clientBody);
    } finally {
      await gateway.close();
    }
  });

  it('uses the endpoint path verbatim when the endpoint has one', async () => {
    const gateway = await startGateway(
      multiConf([instance('only', { override: { endpoint: `${upstream.origin}/random` } })]),
    );
    try {
      assert.equal((await send(gateway.url)).status, 200);
      assert.equal(upstream.received[0]?.url, '/random');
    } finally {
      await gateway.close();
    }
  });

  it('merges options into the body, overwriting the client, and logs both models', async () => {
    const gateway = await startGateway(
      multiConf([
        instance('only', {
          override: { endpoint: upstream.origin },
          // options is free-form (additionalProperties); its static type names only `model`.
          options: { model: 'upstream-model', temperature: 0.5, foo: 'bar' } as { model: string },
        }),
      ]),
    );
    try {
      await send(gateway.url, {
        body: '{"model":"client-model","temperature":1,"messages":[{"role":"user","content":"hi"}]}',
      });
      const body = JSON.parse(upstream.received[0]?.body.toString() ?? '');
      assert.deepEqual(body, {
        model: 'upstream-model',
        temperature: 0.5,
        foo: 'bar',
        messages: [{ role: 'user', content: 'hi' }],
      });
      await waitFor(() => gateway.logs.length === 1, 'the log fields');
      assert.equal(gateway.logs[0]?.request_llm_model, 'client-model');
      assert.equal(gateway.logs[0]?.llm_model, 'upstream-model');
    } finally {
      await gateway.close();
    }
  });

  it('keeps the bytes verbatim when options equal what the client sent', async () => {
    const gateway = await startGateway(
      multiConf([instance('only', { override: { endpoint: upstream.origin }, options: { model: 'same' } })]),
    );
    try {
      const clientBody = '{ "model" : "same", "messages": [] }';
      await send(gateway.url, { body: clientBody });
      assert.equal(upstream.received[0]?.body.toString(), clientBody);
    } finally {
      await gateway.close();
    }
  });

  it('injects stream_options when the client streams, replacing the client object', async () => {
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: [DONE]\n\n');
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      await send(gateway.url, { body: '{"stream":true,"stream_options":{"x":1},"messages":[]}' });
      assert.deepEqual(JSON.parse(upstream.received[0]?.body.toString() ?? ''), {
        stream: true,
        stream_options: { include_usage: true },
        messages: [],
      });
      await waitFor(() => gateway.logs.length === 1, 'the log fields');
      assert.equal(gateway.logs[0]?.request_type, 'ai_stream');
    } finally {
      await gateway.close();
    }
  });

  it('sends embeddings to the embeddings path and reads their usage', async () => {
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [], usage: { prompt_tokens: 5, total_tokens: 5 } }));
    });
    const gateway = await startGateway(
      multiConf([instance('only', { override: { endpoint: upstream.origin }, auth: { query: { k: 'v' } } })]),
    );
    try {
      const response = await send(gateway.url, {
        path: '/v1/embeddings',
        body: '{"input":"hello","model":"text-embedding-3-small"}',
      });
      assert.equal(response.status, 200);
      assert.equal(upstream.received[0]?.url, '/v1/embeddings?k=v');
      await waitFor(() => gateway.logs.length === 1, 'the log fields');
      assert.equal(gateway.logs[0]?.request_type, 'ai_chat');
      assert.equal(gateway.logs[0]?.llm_prompt_tokens, 5);
      assert.equal(gateway.logs[0]?.llm_completion_tokens, 0);
    } finally {
      await gateway.close();
    }
  });

  it('splits 4:1 weights exactly 8/2 over 10 requests', async () => {
    const gateway = await startGateway(
      multiConf([
        instance('heavy', { weight: 4, override: { endpoint: `${upstream.origin}/heavy` } }),
        instance('light', { weight: 1, override: { endpoint: `${upstream.origin}/light` } }),
      ]),
      { random: Math.random },
    );
    try {
      for (let index = 0; index < 10; index += 1) assert.equal((await send(gateway.url)).status, 200);
      const counts = { heavy: 0, light: 0 };
      for (const seen of upstream.received) counts[seen.url === '/heavy' ? 'heavy' : 'light'] += 1;
      assert.deepEqual(counts, { heavy: 8, light: 2 });
      await waitFor(() => gateway.logs.length === 10, 'the log fields');
      assert.equal(gateway.logs.filter((fields) => fields.picked_ai_instance_name === 'heavy').length, 8);
    } finally {
      await gateway.close();
    }
  });

  it('only uses the highest priority tier', async () => {
    const gateway = await startGateway(
      multiConf([
        instance('backup', { priority: 0, override: { endpoint: `${upstream.origin}/backup` } }),
        instance('main', { priority: 5, override: { endpoint: `${upstream.origin}/main` } }),
      ]),
    );
    try {
      for (let index = 0; index < 4; index += 1) await send(gateway.url);
      assert.deepEqual(
        upstream.received.map((seen) => seen.url),
        ['/main', '/main', '/main', '/main'],
      );
    } finally {
      await gateway.close();
    }
  });
});

describe('ai-proxy-multi access: what the client gets back', () => {
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startMockUpstream();
  });
  beforeEach(() => upstream.reset());
  after(() => upstream.close());

  it('relays status, body bytes and headers minus hop-by-hop and framing; logs usage and timings', async () => {
    upstream.respondWith((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-request-id': 'req-1',
        'openai-processing-ms': '12',
        'content-encoding': 'identity',
        connection: 'keep-alive, x-hop-only',
        'x-hop-only': 'secret',
      });
      res.end(CHAT_COMPLETION);
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const response = await send(gateway.url);
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), CHAT_COMPLETION);
      assert.equal(response.headers['content-type'], 'application/json');
      assert.equal(response.headers['x-request-id'], 'req-1');
      assert.equal(response.headers['openai-processing-ms'], '12');
      assert.equal(response.headers['content-encoding'], undefined);
      assert.equal(response.headers['x-hop-only'], undefined);
      assert.deepEqual(gateway.results, ['handled']);
      await waitFor(() => gateway.logs.length === 1, 'the log fields');
      const fields = gateway.logs[0] ?? {};
      assert.equal(fields.request_type, 'ai_chat');
      assert.equal(fields.picked_ai_instance_name, 'only');
      assert.equal(fields.llm_prompt_tokens, 11);
      assert.equal(fields.llm_completion_tokens, 7);
      assert.equal(fields.llm_total_tokens, 18);
      assert.equal(typeof fields.llm_time_to_first_token, 'number');
      assert.equal(typeof fields.apisix_upstream_response_time, 'number');
    } finally {
      await gateway.close();
    }
  });

  it('relays upstream errors (429 with Retry-After, 401 plain text) with status, body and headers', async () => {
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const table = [
        {
          status: 429,
          type: 'application/json',
          body: '{"error":{"message":"slow down"}}',
          extra: { 'retry-after': '7' },
        },
        { status: 401, type: 'text/plain', body: 'Unauthorized', extra: {} },
        { status: 503, type: 'application/json', body: '{"error":"overloaded"}', extra: {} },
      ];
      for (const row of table) {
        upstream.respondWith((_req, res) => {
          res.writeHead(row.status, { 'content-type': row.type, ...row.extra });
          res.end(row.body);
        });
        const response = await send(gateway.url);
        assert.equal(response.status, row.status);
        assert.equal(response.body.toString(), row.body);
        assert.equal(response.headers['content-type'], row.type);
        if (row.status === 429) assert.equal(response.headers['retry-after'], '7');
      }
    } finally {
      await gateway.close();
    }
  });

  it('streams chunk by chunk: the client has chunk 1 before the upstream sends chunk 2', async () => {
    const clientHasFirstChunk = signal();
    const first = 'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n';
    // The usage event is split across two writes, to check the bounded leftover parsing.
    const second = 'data: {"choices":[],"usage":{"prompt_tokens":3,';
    const third = '"completion_tokens":2,"total_tokens":5}}\n\ndata: [DONE]\n\n';
    upstream.respondWith(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'stream-1' });
      res.write(first);
      await clientHasFirstChunk.promise;
      res.write(second);
      res.end(third);
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const received = await new Promise<{
        status: number;
        type: string | undefined;
        requestId: string | undefined;
        text: string;
      }>((resolve, reject) => {
        const req = http.request(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          agent: false,
        });
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text === first) clientHasFirstChunk.resolve();
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: res.headers['content-type'],
              requestId: res.headers['x-request-id'] as string | undefined,
              text,
            }),
          );
        });
        req.end('{"stream":true,"messages":[{"role":"user","content":"hi"}]}');
      });
      assert.equal(received.status, 200);
      assert.equal(received.type, 'text/event-stream');
      assert.equal(received.requestId, 'stream-1');
      assert.equal(received.text, first + second + third);
      await waitFor(() => gateway.logs.length === 1, 'the log fields');
      assert.equal(gateway.logs[0]?.llm_prompt_tokens, 3);
      assert.equal(gateway.logs[0]?.llm_completion_tokens, 2);
      assert.equal(gateway.logs[0]?.llm_total_tokens, 5);
    } finally {
      await gateway.close();
    }
  });

  it('aborts the upstream request as soon as the client disconnects mid-stream', async () => {
    const upstreamSawClose = signal();
    upstream.respondWith((_req, res) => {
      res.on('close', () => upstreamSawClose.resolve());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n');
      // ...and never ends: only the gateway's abort can close this exchange.
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const req = http.request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent: false,
      });
      req.on('error', () => undefined);
      req.on('response', (res) => res.once('data', () => req.destroy()));
      req.end('{"stream":true,"messages":[]}');
      await withDeadline(upstreamSawClose.promise, 'the upstream to see its connection close');
      await waitFor(() => gateway.results.length === 1, 'access to return');
      assert.deepEqual(gateway.results, ['handled']);
      assert.equal(upstream.received.length, 1);
    } finally {
      await gateway.close();
    }
  });

  it('aborts the upstream request when the client leaves before the upstream answered', async () => {
    const upstreamGotRequest = signal();
    const upstreamSawClose = signal();
    upstream.respondWith((_req, res) => {
      res.on('close', () => upstreamSawClose.resolve());
      upstreamGotRequest.resolve();
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const req = http.request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent: false,
      });
      req.on('error', () => undefined);
      req.end('{"messages":[]}');
      await withDeadline(upstreamGotRequest.promise, 'the upstream to get the request');
      req.destroy();
      await withDeadline(upstreamSawClose.promise, 'the upstream to see its connection close');
      await waitFor(() => gateway.results.length === 1, 'access to return');
      assert.deepEqual(gateway.results, ['handled']);
    } finally {
      await gateway.close();
    }
  });

  it('respects back-pressure: a paused client stalls the upstream instead of filling gateway memory', async () => {
    const event = `data: {"choices":[{"delta":{"content":"${'x'.repeat(1000)}"}}]}\n\n`;
    const chunk = event.repeat(1024); // ~1 MiB of complete events per write
    const chunkCount = 64;
    let written = 0;
    let upstreamBlocked = false;
    upstream.respondWith(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let index = 0; index < chunkCount; index += 1) {
        written += chunk.length;
        if (!res.write(chunk)) {
          upstreamBlocked = true;
          await once(res, 'drain');
          upstreamBlocked = false;
        }
      }
      res.end('data: [DONE]\n\n');
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const clientResponse = signal<IncomingMessage>();
      const req = http.request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent: false,
      });
      req.on('response', (res) => {
        res.pause();
        clientResponse.resolve(res);
      });
      req.end('{"stream":true,"messages":[]}');
      const res = await withDeadline(clientResponse.promise, 'the response head');

      // While the client reads nothing, the relay must stop and wait for the client socket's 'drain'
      // (a relay that ignores back-pressure never does), holding about one chunk at most, and the
      // upstream is left with most of its data unsent.
      const gatewayResponse = gateway.responses[0];
      assert.ok(gatewayResponse !== undefined);
      await waitFor(() => gatewayResponse.listenerCount('drain') > 0, 'the relay to wait for drain');
      await waitFor(() => upstreamBlocked, 'the upstream to be blocked by back-pressure');
      assert.ok(
        gatewayResponse.writableLength <= 2 * chunk.length,
        `gateway buffers ${gatewayResponse.writableLength} bytes`,
      );
      assert.ok(written < chunk.length * chunkCount, 'the upstream could not write everything');

      let received = 0;
      res.on('data', (data: Buffer) => {
        received += data.length;
      });
      res.resume();
      await once(res, 'end');
      assert.equal(received, chunk.length * chunkCount + 'data: [DONE]\n\n'.length);
    } finally {
      await gateway.close();
    }
  });

  it('ends a stream broken after the first byte with an OpenAI error event and no [DONE]', async () => {
    const first = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n';
    upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(first, () => res.socket?.destroy());
    });
    const gateway = await startGateway(multiConf([instance('only', { override: { endpoint: upstream.origin } })]));
    try {
      const response = await send(gateway.url, { body: '{"stream":true,"messages":[]}' });
      assert.equal(response.status, 200);
      const errorEvent = openAiError(
        'failed to read response from LLM server: connection reset',
        'server_error',
        'SB_ERR_UPSTREAM_CONNECT',
      );
      assert.equal(response.body.toString(), `${first}data: ${errorEvent}\n\n`);
    } finally {
      await gateway.close();
    }
  });
});

describe('ai-proxy-multi access: errors the gateway makes (OpenAI-shaped, APISIX messages)', () => {
  let upstream: MockUpstream;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  before(async () => {
    upstream = await startMockUpstream();
    gateway = await startGateway(
      multiConf([instance('only', { override: { endpoint: upstream.origin } })], { max_req_body_size: 20 }),
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  const badJson = '{}"messages": [';
  const badJsonMessage = (() => {
    try {
      JSON.parse(badJson);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  })();
  const table: {
    name: string;
    headers?: OutgoingHttpHeaders;
    body: string | string[];
    path?: string;
    status: number;
    message: string;
    code: string;
  }[] = [
    {
      name: 'unsupported content type',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
      status: 400,
      message: 'unsupported content-type: application/x-www-form-urlencoded, only application/json is supported',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'declared size over max_req_body_size',
      body: '{"input":"0123456789abcdef"}',
      status: 413,
      message: 'could not get body: request size 28 is greater than the maximum size 20 allowed',
      code: 'SB_ERR_BODY_TOO_LARGE',
    },
    {
      name: 'chunked body over max_req_body_size',
      body: ['{"input":"01234', '56789abcdef"}'],
      status: 413,
      message: 'could not get body: request size 28 is greater than the maximum size 20 allowed',
      code: 'SB_ERR_BODY_TOO_LARGE',
    },
    {
      name: 'empty body',
      body: '',
      status: 400,
      message: 'could not get body: request body is empty',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'invalid JSON',
      body: badJson,
      status: 400,
      message: `could not parse JSON request body: ${badJsonMessage}`,
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'empty object',
      body: '{}',
      status: 400,
      message: 'no matching AI protocol for the request',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'JSON number',
      body: '42',
      status: 400,
      message: 'no matching AI protocol for the request',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'JSON string',
      body: '"hi"',
      status: 400,
      message: 'no matching AI protocol for the request',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'empty JSON array',
      body: '[]',
      status: 400,
      message: 'no matching AI protocol for the request',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'anthropic messages without messages (converted to openai-chat)',
      path: '/v1/messages',
      body: '{"a":1}',
      status: 400,
      message: 'missing messages',
      code: 'SB_ERR_BAD_REQUEST',
    },
    {
      name: 'a protocol the provider cannot speak',
      path: '/model/m/converse',
      body: '{"messages":[]}',
      status: 400,
      message:
        'provider openai-compatible does not support bedrock-converse protocol (supported: openai-chat, openai-responses, openai-embeddings)',
      code: 'SB_ERR_BAD_REQUEST',
    },
  ];

  for (const row of table) {
    it(`${row.name} → ${row.status}`, async () => {
      const response = await send(gateway.url, {
        body: row.body,
        ...(row.headers ? { headers: row.headers } : {}),
        ...(row.path ? { path: row.path } : {}),
      });
      assert.equal(response.status, row.status);
      assert.equal(response.headers['content-type'], 'application/json');
      assert.equal(response.body.toString(), openAiError(row.message, 'invalid_request_error', row.code));
      assert.equal(upstream.received.length, 0, 'nothing reaches the upstream');
    });
  }
});

describe('ai-proxy-multi access: transport failures', () => {
  it('answers 500 when the connection is refused', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const gateway = await startGateway(
      multiConf([instance('only', { override: { endpoint: `http://127.0.0.1:${port}` } })]),
    );
    try {
      const response = await send(gateway.url);
      assert.equal(response.status, 500);
      assert.equal(response.headers['content-type'], 'application/json');
      assert.equal(
        response.body.toString(),
        openAiError(
          'failed to send request to LLM server: connection refused',
          'server_error',
          'SB_ERR_UPSTREAM_CONNECT',
        ),
      );
    } finally {
      await gateway.close();
    }
  });

  it('answers 500 for openai-compatible without an endpoint', async () => {
    const gateway = await startGateway(multiConf([instance('only')]));
    try {
      const response = await send(gateway.url);
      assert.equal(response.status, 500);
      assert.equal(
        response.body.toString(),
        openAiError(
          'failed to send request to LLM server: provider openai-compatible has no default host; set override.endpoint',
          'server_error',
          'SB_ERR_UPSTREAM_CONNECT',
        ),
      );
    } finally {
      await gateway.close();
    }
  });

  it('answers 504 when the upstream does not answer within timeout', async () => {
    const upstream = await startMockUpstream();
    upstream.respondWith(() => undefined); // headers never come
    const gateway = await startGateway(
      multiConf([instance('only', { override: { endpoint: upstream.origin } })], { timeout: 200 }),
    );
    try {
      const response = await send(gateway.url);
      assert.equal(response.status, 504);
      assert.equal(
        response.body.toString(),
        openAiError('failed to send request to LLM server: timeout', 'server_error', 'SB_ERR_UPSTREAM_TIMEOUT'),
      );
      await waitFor(() => gateway.logs.length === 1, 'the log fields');
      assert.equal(gateway.logs[0]?.picked_ai_instance_name, 'only');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('ai-proxy-multi runtime plugin', () => {
  it('is assignable to the generic RuntimePlugin the pipeline registers', () => {
    const plugin: RuntimePlugin = createAiProxyMultiPlugin({ random: Math.random, now: () => 0 });
    assert.equal(plugin.name, 'ai-proxy-multi');
  });

  it('reuses one pooled dispatcher per origin across prepares (config changes)', async () => {
    const upstream = await startMockUpstream();
    const registry = createDispatcherRegistry();
    const plugin = createAiProxyMultiPlugin({ random: () => 0, now: () => 0 });
    const scope = { holderKey: '/apisix/routes/1', logger: pino({ level: 'silent' }), dispatchers: registry };
    try {
      const conf = multiConf([instance('only', { override: { endpoint: upstream.origin } })]);
      const first: PreparedAiProxyMulti = plugin.prepare(conf, scope);
      const second: PreparedAiProxyMulti = plugin.prepare(conf, scope);
      const dispatcherOf = (prepared: PreparedAiProxyMulti) => {
        const location = prepared.instances.get('only')?.locations.get('openai-chat');
        return location?.ok ? location.dispatcher : undefined;
      };
      assert.ok(dispatcherOf(first) !== undefined);
      assert.equal(dispatcherOf(first), dispatcherOf(second));
    } finally {
      await registry.close();
      await upstream.close();
    }
  });
});
