import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkResource, createFieldCipher, decryptResourceSecrets, encryptResourceSecrets } from '@switchboard/core';
import {
  type AuthSecretResolution,
  isSecretReference,
  resolveAuthSecretRefs,
} from '../src/plugins/ai-proxy-multi/auth/secret-refs.js';
import type { AiProxyMultiConf, AiProxyMultiInstanceConf } from '../src/plugins/ai-proxy-multi/conf.js';
import { createAiProxyMultiPlugin } from '../src/plugins/ai-proxy-multi/plugin.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import { createProxyServer, type ProxyServer } from '../src/server/proxy-server.js';
import { createDispatcherRegistry } from '../src/upstream/dispatchers.js';
import {
  type CapturedLogger,
  captureLogger,
  createTempStore,
  defaultConfig,
  type EchoServer,
  request,
  startEchoServer,
  type TempStore,
} from './support/harness.js';

/**
 * Secret references in ai-proxy-multi `auth` (ai-proxy-multi.md §1.5): `$env://NAME` and
 * `$env://NAME/key` resolve against the environment the CLI handed down; `$secret://` is not supported;
 * a reference that does not resolve disables its instance with a logged error and is never sent.
 */

const KEYS_JSON = JSON.stringify({ openai: 'Bearer sk-from-json', port: 8080 });
const VARIABLES: Readonly<Record<string, string>> = {
  OPENAI_AUTH: 'Bearer sk-env',
  KEYS: KEYS_JSON,
  EMPTY: '',
  NOT_JSON: 'plain-secret-value',
  AWS_ID: 'AKIAENV',
  AWS_SECRET: 'aws-secret-env',
  GCP_SA: '{"client_email":"a@b"}',
};

type Auth = Parameters<typeof resolveAuthSecretRefs>[0];

describe('resolveAuthSecretRefs (§1.5)', () => {
  const resolved: { name: string; auth: Auth; expected: Auth }[] = [
    {
      name: 'plain values stay as they are',
      auth: { header: { Authorization: 'Bearer sk-1' }, query: { key: 'k' } },
      expected: { header: { Authorization: 'Bearer sk-1' }, query: { key: 'k' } },
    },
    {
      name: '$env://NAME in header and query values',
      auth: { header: { Authorization: '$env://OPENAI_AUTH', 'x-plain': 'p' }, query: { key: '$env://AWS_ID' } },
      expected: { header: { Authorization: 'Bearer sk-env', 'x-plain': 'p' }, query: { key: 'AKIAENV' } },
    },
    {
      name: '$env://NAME/key reads a key of a JSON variable; the prefix matches in any case',
      auth: { header: { Authorization: '$ENV://KEYS/openai' } },
      expected: { header: { Authorization: 'Bearer sk-from-json' } },
    },
    {
      name: 'a set but empty variable resolves to the empty string',
      auth: { header: { 'x-empty': '$env://EMPTY' } },
      expected: { header: { 'x-empty': '' } },
    },
    {
      name: 'gcp service_account_json and every aws credential',
      auth: {
        gcp: { service_account_json: '$env://GCP_SA', expire_early_secs: 60 },
        aws: { access_key_id: '$env://AWS_ID', secret_access_key: '$env://AWS_SECRET', session_token: 'tok' },
      },
      expected: {
        gcp: { service_account_json: '{"client_email":"a@b"}', expire_early_secs: 60 },
        aws: { access_key_id: 'AKIAENV', secret_access_key: 'aws-secret-env', session_token: 'tok' },
      },
    },
  ];
  for (const row of resolved) {
    it(`resolves: ${row.name}`, () => {
      assert.deepEqual(resolveAuthSecretRefs(row.auth, VARIABLES), { ok: true, auth: row.expected });
    });
  }

  const failed: { name: string; auth: Auth; field: string; variable: string | undefined; reason: string }[] = [
    {
      name: 'an unset variable',
      auth: { header: { Authorization: '$env://MISSING' } },
      field: 'auth.header.Authorization',
      variable: 'MISSING',
      reason: 'environment variable MISSING is not set',
    },
    {
      name: 'no variable name',
      auth: { query: { key: '$env://' } },
      field: 'auth.query.key',
      variable: '',
      reason: 'the reference names no environment variable',
    },
    {
      name: 'a key of a variable that is not JSON',
      auth: { aws: { access_key_id: 'AKIA', secret_access_key: '$env://NOT_JSON/secret' } },
      field: 'auth.aws.secret_access_key',
      variable: 'NOT_JSON',
      reason: 'environment variable NOT_JSON is not JSON, so its key secret cannot be read',
    },
    {
      name: 'a missing key',
      auth: { header: { a: '$env://KEYS/anthropic' } },
      field: 'auth.header.a',
      variable: 'KEYS',
      reason: 'environment variable KEYS has no string key anthropic',
    },
    {
      name: 'a key that is not a string',
      auth: { gcp: { service_account_json: '$env://KEYS/port' } },
      field: 'auth.gcp.service_account_json',
      variable: 'KEYS',
      reason: 'environment variable KEYS has no string key port',
    },
    {
      name: 'a secret-manager reference (not supported)',
      auth: { header: { ok: '$env://OPENAI_AUTH', Authorization: '$secret://vault/1/openai/key' } },
      field: 'auth.header.Authorization',
      variable: undefined,
      reason: '$secret:// references (secret managers) are not supported; use $env://NAME',
    },
  ];
  for (const row of failed) {
    it(`fails on ${row.name}, naming the field and variable but never a value`, () => {
      const result: AuthSecretResolution = resolveAuthSecretRefs(row.auth, VARIABLES);
      assert.deepEqual(result, {
        ok: false,
        failure: { field: row.field, variable: row.variable, reason: row.reason },
      });
      for (const value of Object.values(VARIABLES)) if (value !== '') assert.ok(!row.reason.includes(value));
    });
  }

  it('knows a reference when it sees one', () => {
    assert.deepEqual(
      ['$env://A', '$ENV://A', '$secret://vault/1/k', 'Bearer $env://A', '$SECRET://vault/1/k', 'env://A'].map(
        isSecretReference,
      ),
      [true, true, true, false, false, false],
    );
  });
});

describe('references on the Admin API and at rest', () => {
  const route = {
    uri: '/chat',
    plugins: {
      'ai-proxy-multi': {
        instances: [
          {
            name: 'a',
            provider: 'vertex-ai',
            weight: 1,
            provider_conf: { project_id: 'p', region: 'us-central1' },
            auth: {
              header: { Authorization: '$env://OPENAI_AUTH' },
              query: { key: '$env://KEYS/openai' },
              gcp: { service_account_json: '$ENV://GCP_SA' },
            },
          },
          {
            name: 'b',
            provider: 'openai',
            weight: 1,
            auth: { header: { Authorization: '$secret://vault/1/openai/key' } },
          },
        ],
      },
    },
  };

  it('accepts references, skipping the service_account_json JSON check (§1.11 rule 4)', () => {
    const result = checkResource('routes', route, { mode: 'admin' });
    assert.ok(result.ok, result.ok ? '' : result.message);
  });

  it('encrypts references at rest and decrypts them unchanged', () => {
    const cipher = createFieldCipher(defaultConfig().apisix.data_encryption.keyring);
    const stored = encryptResourceSecrets('routes', route, cipher);
    const [storedInstance] = stored.plugins['ai-proxy-multi'].instances;
    assert.notEqual(storedInstance?.auth.header?.Authorization, '$env://OPENAI_AUTH');
    assert.deepEqual(decryptResourceSecrets('routes', stored, cipher), route);
  });
});

/** The gateway in this process, fed by an embedded store, with the environment the CLI would hand down. */
describe('references through the proxy', () => {
  let store: TempStore;
  let proxy: ProxyServer;
  let log: CapturedLogger;
  let echo: EchoServer;
  let gatewayUrl: string;
  const dispatchers = createDispatcherRegistry();
  const cipher = createFieldCipher(defaultConfig().apisix.data_encryption.keyring);

  before(async () => {
    [store, echo] = await Promise.all([createTempStore(), startEchoServer('llm')]);
    log = captureLogger('warn');
    const deps = { random: () => 0, now: () => performance.now(), providerEnv: { variables: VARIABLES } };
    proxy = createProxyServer({
      source: store.store,
      prefix: '/apisix',
      logger: log.logger,
      dataEncryption: defaultConfig().apisix.data_encryption,
      dispatchers,
      plugins: createRuntimePluginRegistry(deps, [createAiProxyMultiPlugin(deps)]),
    });
    const [address] = await proxy.listen([{ ip: '127.0.0.1', port: 0 }]);
    gatewayUrl = `http://127.0.0.1:${address?.port}`;
    await proxy.ready;
  });
  after(async () => {
    await proxy.close();
    await dispatchers.close();
    await Promise.all([store.close(), echo.close()]);
  });

  const instance = (name: string, priority: number, auth: Auth): AiProxyMultiInstanceConf => ({
    name,
    provider: 'openai-compatible',
    weight: 1,
    priority,
    auth,
    override: { endpoint: `http://127.0.0.1:${echo.port}/v1/chat/completions` },
  });

  /** Stores a route encrypted, as the Admin API does, and waits until the proxy applied it. */
  async function putRoute(id: string, conf: Partial<AiProxyMultiConf>): Promise<void> {
    const value = encryptResourceSecrets('routes', { uri: `/${id}`, plugins: { 'ai-proxy-multi': conf } }, cipher);
    const revision = await store.put(`/apisix/routes/${id}`, value);
    const deadline = Date.now() + 10_000;
    while (proxy.revision() < revision) {
      assert.ok(Date.now() < deadline, `route ${id} not applied`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const chat = (id: string) =>
    request(`${gatewayUrl}/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('sends resolved values; an unresolvable instance is disabled, logged and skipped by fallback', async () => {
    echo.requests.length = 0;
    await putRoute('fallback', {
      fallback_strategy: ['http_5xx'],
      instances: [
        instance('unresolved', 1, { header: { Authorization: '$env://NOT_SET' } }),
        instance('resolved', 0, { header: { Authorization: '$env://KEYS/openai' }, query: { key: '$env://AWS_ID' } }),
      ],
    });
    const response = await chat('fallback');
    assert.equal(response.status, 200, response.text);
    assert.equal(echo.requests.length, 1);
    const [received] = echo.requests;
    assert.equal(received?.headers.authorization, 'Bearer sk-from-json');
    assert.equal(received?.url, '/v1/chat/completions?key=AKIAENV');

    const errors = log.lines.filter((line) => line.instance === 'unresolved' && line.level === 50);
    assert.equal(errors.length, 1, JSON.stringify(log.lines));
    assert.equal(errors[0]?.key, '/apisix/routes/fallback');
    assert.equal(errors[0]?.field, 'auth.header.Authorization');
    assert.equal(errors[0]?.variable, 'NOT_SET');
    assert.match(String(errors[0]?.msg), /environment variable NOT_SET is not set/);
    const logged = JSON.stringify(log.lines);
    for (const value of ['sk-from-json', 'AKIAENV']) assert.ok(!logged.includes(value), `log leaks ${value}`);
  });

  it('a referenced service account that is not JSON fails without quoting it', async () => {
    await putRoute('gcp-not-json', {
      instances: [
        {
          ...instance('vertex', 0, { gcp: { service_account_json: '$env://NOT_JSON' } }),
          provider: 'vertex-ai',
          provider_conf: { project_id: 'p', region: 'us-central1' },
        },
      ],
    });
    const response = await chat('gcp-not-json');
    assert.equal(response.status, 500, response.text);
    assert.match(response.text, /invalid gcp service account json: not valid JSON/);
    assert.ok(!response.text.includes('plain-secret'));
    assert.ok(!JSON.stringify(log.lines).includes('plain-secret'));
  });

  it('never sends the literal reference upstream', async () => {
    echo.requests.length = 0;
    await putRoute('only-unresolved', {
      instances: [instance('alone', 0, { header: { Authorization: '$secret://vault/1/openai/key' } })],
    });
    const response = await chat('only-unresolved');
    assert.ok(response.status >= 500, `${response.status} ${response.text}`);
    assert.match(response.text, /unresolved secret reference in auth\.header\.Authorization of instance 'alone'/);
    assert.equal(echo.requests.length, 0);
    assert.ok(log.lines.some((line) => line.instance === 'alone' && /\$secret:\/\/ references/.test(String(line.msg))));
  });
});
