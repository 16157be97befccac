import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type EchoedRequest, type EchoServer, request, startEchoServer } from './support/harness.js';
import { type RunningProxy, startProxy } from './support/proxy-harness.js';

const MISSING = '{"message":"Missing API key in request"}\n';
const INVALID = '{"message":"Invalid API key in request"}\n';

describe('key-auth (admin-api.md §7, §3.5)', { timeout: 60_000 }, () => {
  let gateway: RunningProxy;
  let echo: EchoServer;

  const lastEchoed = (): EchoedRequest => {
    const last = echo.requests.at(-1);
    assert.ok(last, 'the upstream received a request');
    return last;
  };

  before(async () => {
    echo = await startEchoServer();
    gateway = await startProxy();
    const upstream = { nodes: { [`127.0.0.1:${echo.port}`]: 1 } };
    const { put } = gateway.store;
    await put('/apisix/consumers/jack', {
      username: 'jack',
      labels: { custom_id: 'jack-001' },
      plugins: { 'key-auth': { key: 'auth-one' } },
    });
    await put('/apisix/consumers/jack/credentials/c1', { plugins: { 'key-auth': { key: 'cred-key' } } });
    await put('/apisix/consumers/guest', { username: 'guest' });
    await put('/apisix/routes/protected', { uri: '/protected', plugins: { 'key-auth': {} }, upstream });
    await put('/apisix/routes/custom', {
      uri: '/custom',
      plugins: { 'key-auth': { header: 'X-Key', query: 'k', realm: 'gateway' } },
      upstream,
    });
    await put('/apisix/routes/hidden', {
      uri: '/hidden',
      plugins: { 'key-auth': { hide_credentials: true } },
      upstream,
    });
    await put('/apisix/routes/anonymous', {
      uri: '/anonymous',
      plugins: { 'key-auth': { anonymous_consumer: 'guest' } },
      upstream,
    });
    const last = await put('/apisix/routes/anonymous-missing', {
      uri: '/anonymous-missing',
      plugins: { 'key-auth': { anonymous_consumer: 'nobody' } },
      upstream,
    });
    await gateway.applied(last);
  });
  after(async () => {
    await gateway.close();
    await echo.close();
  });

  test('no key: 401 Missing API key, with WWW-Authenticate', async () => {
    const answer = await request(`${gateway.url}/protected`);
    assert.equal(answer.status, 401);
    assert.equal(answer.text, MISSING);
    assert.equal(answer.headers['www-authenticate'], 'apikey realm="key"');
    assert.equal(answer.headers['content-type'], 'application/json');
  });

  test('an unknown key: 401 Invalid API key', async () => {
    const answer = await request(`${gateway.url}/protected`, { headers: { apikey: 'wrong' } });
    assert.equal(answer.status, 401);
    assert.equal(answer.text, INVALID);
    assert.equal(answer.headers['www-authenticate'], 'apikey realm="key"');
  });

  test('a valid key in the header: proxied with the consumer headers', async () => {
    const answer = await request(`${gateway.url}/protected`, { headers: { apikey: 'auth-one' } });
    assert.equal(answer.status, 200);
    const seen = lastEchoed();
    assert.equal(seen.headers['x-consumer-username'], 'jack');
    assert.equal(seen.headers['x-consumer-custom-id'], 'jack-001');
    assert.equal(seen.headers['x-credential-identifier'], undefined);
    assert.equal(seen.headers.apikey, 'auth-one', 'credentials are kept unless hide_credentials');
  });

  test('a valid key in the query', async () => {
    const answer = await request(`${gateway.url}/protected?apikey=auth-one&x=1`);
    assert.equal(answer.status, 200);
    assert.equal(lastEchoed().headers['x-consumer-username'], 'jack');
    assert.equal(lastEchoed().url, '/protected?apikey=auth-one&x=1');
  });

  test('the header wins over the query', async () => {
    const answer = await request(`${gateway.url}/protected?apikey=auth-one`, { headers: { apikey: 'wrong' } });
    assert.equal(answer.status, 401);
    assert.equal(answer.text, INVALID);
  });

  test('a credential: the parent consumer plus X-Credential-Identifier', async () => {
    const answer = await request(`${gateway.url}/protected`, { headers: { apikey: 'cred-key' } });
    assert.equal(answer.status, 200);
    const seen = lastEchoed();
    assert.equal(seen.headers['x-consumer-username'], 'jack');
    assert.equal(seen.headers['x-credential-identifier'], 'c1');
    assert.equal(seen.headers['x-consumer-custom-id'], 'jack-001');
  });

  test('client-forged consumer headers are overwritten or removed', async () => {
    await request(`${gateway.url}/protected`, {
      headers: { apikey: 'auth-one', 'x-consumer-username': 'admin', 'x-credential-identifier': 'forged' },
    });
    const seen = lastEchoed();
    assert.equal(seen.headers['x-consumer-username'], 'jack');
    assert.equal(seen.headers['x-credential-identifier'], undefined);
  });

  test('custom header, query and realm', async () => {
    const refused = await request(`${gateway.url}/custom`, { headers: { apikey: 'auth-one' } });
    assert.equal(refused.status, 401);
    assert.equal(refused.text, MISSING);
    assert.equal(refused.headers['www-authenticate'], 'apikey realm="gateway"');
    assert.equal((await request(`${gateway.url}/custom`, { headers: { 'x-key': 'auth-one' } })).status, 200);
    assert.equal((await request(`${gateway.url}/custom?k=auth-one`)).status, 200);
  });

  test('hide_credentials strips only the source the key came from', async () => {
    await request(`${gateway.url}/hidden?keep=1`, { headers: { apikey: 'auth-one' } });
    assert.equal(lastEchoed().headers.apikey, undefined);
    assert.equal(lastEchoed().url, '/hidden?keep=1');
    await request(`${gateway.url}/hidden?apikey=auth-one&keep=1`);
    assert.equal(lastEchoed().url, '/hidden?keep=1');
    assert.equal(lastEchoed().headers['x-consumer-username'], 'jack');
  });

  test('anonymous_consumer: a failure continues as that consumer', async () => {
    const answer = await request(`${gateway.url}/anonymous`);
    assert.equal(answer.status, 200);
    assert.equal(lastEchoed().headers['x-consumer-username'], 'guest');
    await request(`${gateway.url}/anonymous`, { headers: { apikey: 'auth-one' } });
    assert.equal(lastEchoed().headers['x-consumer-username'], 'jack', 'a valid key still identifies its consumer');
  });

  test('anonymous_consumer that does not exist: 401 Invalid user authorization', async () => {
    const answer = await request(`${gateway.url}/anonymous-missing`);
    assert.equal(answer.status, 401);
    assert.equal(answer.text, '{"message":"Invalid user authorization"}\n');
    assert.equal(answer.headers['www-authenticate'], 'apikey realm="key"');
  });

  test('a changed key applies to already-prepared routes (live consumer index)', async () => {
    await gateway.applied(
      await gateway.store.put('/apisix/consumers/jack', {
        username: 'jack',
        plugins: { 'key-auth': { key: 'auth-two' } },
      }),
    );
    assert.equal((await request(`${gateway.url}/protected`, { headers: { apikey: 'auth-one' } })).status, 401);
    assert.equal((await request(`${gateway.url}/protected`, { headers: { apikey: 'auth-two' } })).status, 200);
    await gateway.applied(
      await gateway.store.put('/apisix/consumers/jack', {
        username: 'jack',
        labels: { custom_id: 'jack-001' },
        plugins: { 'key-auth': { key: 'auth-one' } },
      }),
    );
  });
});

describe('consumer plugins replace route plugins of the same name (admin-api.md §6.6)', { timeout: 60_000 }, () => {
  test("a consumer's ai-proxy-multi conf overrides the route's for that consumer only", async () => {
    const echo = await startEchoServer();
    const gateway = await startProxy();
    const aiProxy = (path: string) => ({
      instances: [
        {
          name: `to-${path}`,
          provider: 'openai',
          weight: 1,
          auth: { header: { Authorization: 'Bearer test' } },
          override: { endpoint: `http://127.0.0.1:${echo.port}/${path}` },
        },
      ],
    });
    try {
      await gateway.store.put('/apisix/consumers/jack', {
        username: 'jack',
        plugins: { 'key-auth': { key: 'jack-key' }, 'ai-proxy-multi': aiProxy('consumer-path') },
      });
      await gateway.store.put('/apisix/consumers/anna', {
        username: 'anna',
        plugins: { 'key-auth': { key: 'anna-key' } },
      });
      await gateway.applied(
        await gateway.store.put('/apisix/routes/ai', {
          uri: '/v1/chat/completions',
          plugins: { 'key-auth': {}, 'ai-proxy-multi': aiProxy('route-path') },
        }),
      );
      const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      const post = (key: string) =>
        request(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { apikey: key, 'content-type': 'application/json' },
          body,
        });

      assert.equal((await post('jack-key')).status, 200);
      assert.equal(echo.requests.at(-1)?.url, '/consumer-path');
      assert.equal((await post('anna-key')).status, 200);
      assert.equal(echo.requests.at(-1)?.url, '/route-path');
      assert.equal(echo.requests.at(-1)?.headers['x-consumer-username'], 'anna');
      assert.equal((await post('nobody')).status, 401, 'auth still runs before the AI plugin');
      assert.equal(echo.requests.length, 2);
    } finally {
      await gateway.close();
      await echo.close();
    }
  });
});
