import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { SwitchboardError } from '@switchboard/core';
import { pino } from 'pino';
import {
  type FinalizeContext,
  prepareRequestFinalizer,
  type UpstreamRequestDraft,
} from '../src/plugins/ai-proxy-multi/auth/finalize-request.js';
import { gcpTokenTtlSeconds } from '../src/plugins/ai-proxy-multi/auth/gcp-token-cache.js';
import {
  createProviderAuthRuntime,
  type ProviderEnv,
} from '../src/plugins/ai-proxy-multi/auth/provider-auth-runtime.js';
import type { AiProxyMultiInstanceConf } from '../src/plugins/ai-proxy-multi/conf.js';
import { findProvider } from '../src/plugins/ai-proxy-multi/providers/registry.js';
import { createDispatcherRegistry } from '../src/upstream/dispatchers.js';

/**
 * GCP service-account tokens (ai-proxy-multi.md §4.8) against a local mock token endpoint, with a key
 * pair generated here: the RS256 JWT, the form exchange, caching within the TTL policy, failures.
 */

interface TokenRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly form: URLSearchParams;
}

/** A token endpoint that records each exchange and answers with `answer()` (`tok-<n>` by default). */
async function startTokenEndpoint() {
  const requests: TokenRequest[] = [];
  let answer = (count: number): { status: number; body: string } => ({
    status: 200,
    body: JSON.stringify({ access_token: `tok-${count}`, expires_in: 3600, token_type: 'Bearer' }),
  });
  let release: Promise<void> = Promise.resolve();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      contentType: req.headers['content-type'],
      form: new URLSearchParams(Buffer.concat(chunks).toString()),
    });
    await release;
    const { status, body } = answer(requests.length);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    tokenUri: `http://127.0.0.1:${port}/token`,
    requests,
    answerWith(next: typeof answer) {
      answer = next;
    },
    /** Holds answers until the returned function is called. */
    hold(): () => void {
      let open!: () => void;
      release = new Promise((resolve) => {
        open = resolve;
      });
      return () => {
        release = Promise.resolve();
        open();
      };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

type TokenEndpoint = Awaited<ReturnType<typeof startTokenEndpoint>>;

const DRAFT: UpstreamRequestDraft = {
  origin: 'https://us-central1-aiplatform.googleapis.com',
  path: '?k=v',
  method: 'POST',
  headers: { authorization: 'Bearer client', 'content-type': 'application/json' },
  body: '{}',
};
const CHAT: FinalizeContext = { model: 'gemini-2.0-flash', streaming: false, protocol: 'openai-chat' };

function decodeJwtPart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString()) as Record<string, unknown>;
}

describe('vertex-ai GCP service-account tokens (§4.8)', () => {
  let endpoint: TokenEndpoint;
  let publicKey: KeyObject;
  let serviceAccountJson: string;
  const registry = createDispatcherRegistry();
  let nowMs = Date.UTC(2025, 0, 1);

  before(async () => {
    endpoint = await startTokenEndpoint();
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    publicKey = pair.publicKey;
    serviceAccountJson = JSON.stringify({
      type: 'service_account',
      client_email: 'gateway@project.iam.gserviceaccount.com',
      private_key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      token_uri: endpoint.tokenUri,
    });
  });
  afterEach(() => {
    endpoint.requests.length = 0;
    endpoint.answerWith((count) => ({
      status: 200,
      body: JSON.stringify({ access_token: `tok-${count}`, expires_in: 3600 }),
    }));
  });
  after(async () => {
    await registry.close();
    await endpoint.close();
  });

  function finalizerFor(
    gcp: NonNullable<AiProxyMultiInstanceConf['auth']['gcp']>,
    env: ProviderEnv = {},
    name = 'vertex',
  ) {
    const instance: AiProxyMultiInstanceConf = {
      name,
      provider: 'vertex-ai',
      weight: 1,
      auth: { gcp },
      provider_conf: { project_id: 'proj', region: 'us-central1' },
    };
    return prepareRequestFinalizer({
      instance,
      provider: findProvider('vertex-ai'),
      conf: { timeout: 5000, keepalive_timeout: 60000, ssl_verify: true },
      scope: { holderKey: '/apisix/routes/1', logger: pino({ level: 'silent' }), dispatchers: registry },
      runtime: createProviderAuthRuntime({ env, wallClock: () => nowMs }),
    });
  }

  async function authorization(finalizer: ReturnType<typeof finalizerFor>): Promise<string | SwitchboardError> {
    const result = await finalizer.finalize(DRAFT, CHAT);
    if (result instanceof SwitchboardError) return result;
    return String(result.headers.authorization);
  }

  it('exchanges an RS256 JWT signed with the account key for a token and sends it as Bearer', async () => {
    nowMs = Date.UTC(2025, 0, 1, 12, 0, 0);
    const finalizer = finalizerFor({ service_account_json: serviceAccountJson, expire_early_secs: 60 });
    const result = await finalizer.finalize(DRAFT, CHAT);
    assert.ok(!(result instanceof SwitchboardError), String(result));
    assert.equal(result.headers.authorization, 'Bearer tok-1', 'replaces the client Authorization (§4.3)');
    assert.equal(result.path, '/v1beta1/projects/proj/locations/us-central1/endpoints/openapi/chat/completions?k=v');

    const [exchange] = endpoint.requests;
    assert.ok(exchange);
    assert.equal(exchange.method, 'POST');
    assert.equal(exchange.path, '/token');
    assert.equal(exchange.contentType, 'application/x-www-form-urlencoded');
    assert.deepEqual([...exchange.form.keys()], ['grant_type', 'assertion']);
    assert.equal(exchange.form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');

    const [header, claims, signature] = (exchange.form.get('assertion') ?? '').split('.');
    assert.deepEqual(decodeJwtPart(header), { alg: 'RS256', typ: 'JWT' });
    const issuedAt = Math.floor(nowMs / 1000);
    assert.deepEqual(decodeJwtPart(claims), {
      iss: 'gateway@project.iam.gserviceaccount.com',
      aud: endpoint.tokenUri,
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      iat: issuedAt,
      exp: issuedAt + 3600,
    });
    assert.ok(
      verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature ?? '', 'base64url')),
      'the signature verifies with the account public key',
    );
  });

  it('reuses the token until expires_in minus expire_early_secs, then fetches a new one', async () => {
    nowMs = Date.UTC(2025, 0, 2);
    const finalizer = finalizerFor({ service_account_json: serviceAccountJson, expire_early_secs: 60 });
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    nowMs += 3539_000;
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    assert.equal(endpoint.requests.length, 1);
    nowMs += 1_000;
    assert.equal(await authorization(finalizer), 'Bearer tok-2');
    assert.equal(endpoint.requests.length, 2);
  });

  it('caps the reuse at max_ttl', async () => {
    nowMs = Date.UTC(2025, 0, 3);
    const finalizer = finalizerFor({ service_account_json: serviceAccountJson, expire_early_secs: 60, max_ttl: 600 });
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    nowMs += 599_000;
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    nowMs += 1_000;
    assert.equal(await authorization(finalizer), 'Bearer tok-2');
  });

  it('shares one exchange between concurrent requests', async () => {
    nowMs = Date.UTC(2025, 0, 4);
    const finalizer = finalizerFor({ service_account_json: serviceAccountJson, expire_early_secs: 60 });
    const open = endpoint.hold();
    const pending = [authorization(finalizer), authorization(finalizer), authorization(finalizer)];
    const deadline = Date.now() + 5000;
    while (endpoint.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    open();
    assert.deepEqual(await Promise.all(pending), ['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
    assert.equal(endpoint.requests.length, 1);
  });

  it('does not share a token between TTL policies of the same account', async () => {
    nowMs = Date.UTC(2025, 0, 5);
    const runtimeShared = createProviderAuthRuntime({ wallClock: () => nowMs });
    const build = (gcp: NonNullable<AiProxyMultiInstanceConf['auth']['gcp']>) =>
      prepareRequestFinalizer({
        instance: {
          name: 'same-name',
          provider: 'vertex-ai',
          weight: 1,
          auth: { gcp },
          provider_conf: { project_id: 'p', region: 'r' },
        },
        provider: findProvider('vertex-ai'),
        conf: { timeout: 5000, keepalive_timeout: 60000, ssl_verify: true },
        scope: { holderKey: '/apisix/routes/1', logger: pino({ level: 'silent' }), dispatchers: registry },
        runtime: runtimeShared,
      });
    const first = build({ service_account_json: serviceAccountJson, expire_early_secs: 60 });
    const again = build({ service_account_json: serviceAccountJson, expire_early_secs: 60 });
    const otherPolicy = build({ service_account_json: serviceAccountJson, expire_early_secs: 60, max_ttl: 100 });
    assert.equal(await authorization(first), 'Bearer tok-1');
    assert.equal(await authorization(again), 'Bearer tok-1', 'a config change keeps the cached token');
    assert.equal(await authorization(otherPolicy), 'Bearer tok-2');
  });

  it('reads the account from GCP_SERVICE_ACCOUNT when auth.gcp has none, with a scope list', async () => {
    nowMs = Date.UTC(2025, 0, 6);
    const fromEnv = JSON.stringify({ ...JSON.parse(serviceAccountJson), scope: ['scope-a', 'scope-b'] });
    const finalizer = finalizerFor({ expire_early_secs: 60 }, { GCP_SERVICE_ACCOUNT: fromEnv });
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    const claims = decodeJwtPart((endpoint.requests[0]?.form.get('assertion') ?? '').split('.')[1]);
    assert.equal(claims.scope, 'scope-a scope-b');
  });

  it('uses 3600 s when the answer has no expires_in', async () => {
    nowMs = Date.UTC(2025, 0, 7);
    endpoint.answerWith((count) => ({ status: 200, body: JSON.stringify({ access_token: `tok-${count}` }) }));
    const finalizer = finalizerFor({ service_account_json: serviceAccountJson, expire_early_secs: 0 });
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    nowMs += 3599_000;
    assert.equal(await authorization(finalizer), 'Bearer tok-1');
    nowMs += 1_000;
    assert.equal(await authorization(finalizer), 'Bearer tok-2');
  });

  const failures: {
    name: string;
    answer?: (count: number) => { status: number; body: string };
    gcp?: (json: string) => NonNullable<AiProxyMultiInstanceConf['auth']['gcp']>;
    env?: ProviderEnv;
    message: string;
  }[] = [
    {
      name: 'the token endpoint answers 401',
      answer: () => ({ status: 401, body: '{"error":"invalid_grant"}' }),
      message: 'failed to get gcp access token: failed to get google oauth token',
    },
    {
      name: 'the token endpoint answers 200 without access_token',
      answer: () => ({ status: 200, body: '{"token_type":"Bearer"}' }),
      message: 'failed to get gcp access token: failed to get google oauth token',
    },
    {
      name: 'the token endpoint answers something that is not JSON',
      answer: () => ({ status: 200, body: 'nope' }),
      message: 'failed to get gcp access token: failed to get google oauth token',
    },
    {
      name: 'no account anywhere',
      gcp: () => ({ expire_early_secs: 60 }),
      message:
        'failed to get gcp access token: no service account: set auth.gcp.service_account_json or GCP_SERVICE_ACCOUNT',
    },
    {
      name: 'GCP_SERVICE_ACCOUNT is not JSON',
      gcp: () => ({ expire_early_secs: 60 }),
      env: { GCP_SERVICE_ACCOUNT: '{not json' },
      message: 'invalid gcp service account json: ',
    },
    {
      name: 'the account has no private_key',
      gcp: (json) => ({ service_account_json: JSON.stringify({ ...JSON.parse(json), private_key: undefined }) }),
      message: 'invalid gcp service account json: private_key is missing',
    },
  ];
  for (const failure of failures) {
    it(`answers 500 SB_ERR_PROVIDER_AUTH when ${failure.name}, and caches no failure`, async () => {
      nowMs = Date.UTC(2025, 1, 1);
      if (failure.answer !== undefined) endpoint.answerWith(failure.answer);
      const gcp = failure.gcp?.(serviceAccountJson) ?? { service_account_json: serviceAccountJson };
      const finalizer = finalizerFor(gcp, failure.env);
      const result = await authorization(finalizer);
      assert.ok(result instanceof SwitchboardError);
      assert.equal(result.code, 'SB_ERR_PROVIDER_AUTH');
      assert.equal(result.status, 500);
      assert.ok(result.message.startsWith(failure.message), result.message);
      assert.ok(!result.message.includes('PRIVATE KEY'), 'never quotes the key');
      if (failure.answer !== undefined) {
        endpoint.answerWith((count) => ({ status: 200, body: JSON.stringify({ access_token: `tok-${count}` }) }));
        assert.equal(await authorization(finalizer), 'Bearer tok-2', 'the next request tries again');
      }
    });
  }
});

describe('gcpTokenTtlSeconds (§4.8)', () => {
  const table: { expiresIn: number | undefined; early: number; maxTtl?: number; ttl: number }[] = [
    { expiresIn: 3600, early: 60, ttl: 3540 },
    { expiresIn: undefined, early: 60, ttl: 3540 },
    { expiresIn: 30, early: 60, ttl: 30 },
    { expiresIn: 60, early: 60, ttl: 60 },
    { expiresIn: 3600, early: 0, maxTtl: 100, ttl: 100 },
    { expiresIn: 3600, early: 60, maxTtl: 7200, ttl: 3540 },
  ];
  for (const { expiresIn, early, maxTtl, ttl } of table) {
    it(`expires_in ${expiresIn}, early ${early}, max_ttl ${maxTtl} → ${ttl}`, () => {
      assert.equal(gcpTokenTtlSeconds(expiresIn, { expireEarlySecs: early, maxTtlSecs: maxTtl }), ttl);
    });
  }
});
