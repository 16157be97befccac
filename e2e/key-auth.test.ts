import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';

/**
 * key-auth (admin-api.md §7) with an inline consumer key and a credential, through both replicas:
 * 401 bodies and WWW-Authenticate, 200 with the key in the header or in the query, and the
 * consumer headers the upstream receives.
 */

const JACK_KEY = 'jack-inline-key';
const ALICE_KEY = 'alice-credential-key';

interface AuthCase {
  readonly name: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly status: number;
  readonly body?: unknown;
  readonly consumer?: string;
}

const AUTH_CASES: readonly AuthCase[] = [
  { name: 'no key', path: '/secure', headers: {}, status: 401, body: { message: 'Missing API key in request' } },
  {
    name: 'a wrong key in the header',
    path: '/secure',
    headers: { apikey: 'nope' },
    status: 401,
    body: { message: 'Invalid API key in request' },
  },
  {
    name: 'a wrong key in the query',
    path: '/secure?apikey=nope',
    headers: {},
    status: 401,
    body: { message: 'Invalid API key in request' },
  },
  {
    name: "jack's inline key in the header",
    path: '/secure',
    headers: { apikey: JACK_KEY },
    status: 200,
    consumer: 'jack',
  },
  {
    name: "jack's inline key in the query",
    path: `/secure?apikey=${JACK_KEY}`,
    headers: {},
    status: 200,
    consumer: 'jack',
  },
  {
    name: "alice's credential in the header",
    path: '/secure',
    headers: { apikey: ALICE_KEY },
    status: 200,
    consumer: 'alice',
  },
  {
    name: "alice's credential in the query",
    path: `/secure?apikey=${ALICE_KEY}`,
    headers: {},
    status: 200,
    consumer: 'alice',
  },
];

describe('key-auth through two data-plane replicas', () => {
  let cluster: Cluster;
  let mock: MockLlm;
  before(async () => {
    [cluster, mock] = await Promise.all([startCluster(), startMockLlm({ name: 'auth-upstream' })]);
    const results = await Promise.all([
      cluster.admin.put('/consumers', { username: 'jack', plugins: { 'key-auth': { key: JACK_KEY } } }),
      cluster.admin.put('/consumers', { username: 'alice' }),
      cluster.admin.put('/routes/secure', {
        ...aiRoute({
          uri: '/secure',
          plugins: { 'key-auth': {} },
          instances: [aiInstance({ name: 'only', endpoint: mock.url })],
        }),
      }),
    ]);
    for (const result of results) assert.equal(result.status, 201, result.text);
    const credential = await cluster.admin.put('/consumers/alice/credentials/alice-cred', {
      plugins: { 'key-auth': { key: ALICE_KEY } },
    });
    assert.equal(credential.status, 201, credential.text);
    // Both replicas have everything once alice's credential (the last write) works on each.
    await Promise.all(
      cluster.proxyUrls.map((proxyUrl) =>
        pollUntil(
          async () =>
            (await httpRequest(`${proxyUrl}/secure`, { headers: { apikey: ALICE_KEY }, body: CHAT_BODY })).status ===
            200,
          { timeoutMs: 10_000, description: `the credential on ${proxyUrl}` },
        ),
      ),
    );
  });
  after(async () => {
    await Promise.all([cluster?.close(), mock?.close()]);
  });

  for (const authCase of AUTH_CASES) {
    test(`${authCase.name} → ${authCase.status} on both replicas`, async () => {
      for (const proxyUrl of cluster.proxyUrls) {
        mock.clear();
        const response = await httpRequest(`${proxyUrl}${authCase.path}`, {
          headers: authCase.headers,
          body: CHAT_BODY,
        });
        assert.equal(response.status, authCase.status, `${proxyUrl}: ${response.text}`);
        if (authCase.status === 401) {
          assert.deepEqual(response.json, authCase.body);
          assert.equal(headerOf(response, 'www-authenticate'), 'apikey realm="key"');
          assert.equal(mock.requests().length, 0, 'a rejected request never reaches the upstream');
        } else {
          const [received] = mock.requests();
          assert.ok(received, 'the upstream got the request');
          assert.equal(received.headers['x-consumer-username'], authCase.consumer, 'the consumer header (§7 step 7)');
          if (authCase.consumer === 'alice') assert.equal(received.headers['x-credential-identifier'], 'alice-cred');
        }
      }
    });
  }

  test('a client cannot forge the consumer headers', async () => {
    mock.clear();
    const response = await httpRequest(`${cluster.proxyUrls[0]}/secure`, {
      headers: { apikey: JACK_KEY, 'x-consumer-username': 'admin', 'x-credential-identifier': 'forged' },
      body: CHAT_BODY,
    });
    assert.equal(response.status, 200);
    const [received] = mock.requests();
    assert.equal(received?.headers['x-consumer-username'], 'jack');
    assert.equal(received?.headers['x-credential-identifier'], undefined);
  });

  test('deleting the credential revokes it on both replicas', async () => {
    const deleted = await cluster.admin.delete('/consumers/alice/credentials/alice-cred');
    assert.equal(deleted.status, 200, deleted.text);
    await Promise.all(
      cluster.proxyUrls.map((proxyUrl) =>
        pollUntil(
          async () => {
            const response = await httpRequest(`${proxyUrl}/secure`, {
              headers: { apikey: ALICE_KEY },
              body: CHAT_BODY,
            });
            return (
              response.status === 401 && JSON.stringify(response.json) === '{"message":"Invalid API key in request"}'
            );
          },
          { timeoutMs: 10_000, description: `the revoked credential on ${proxyUrl}` },
        ),
      ),
    );
  });
});
