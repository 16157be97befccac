import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isSwitchboardError } from '@switchboard/core';
import { ADMIN_KEY, type AdminHarness, createAdminOver, ROUTE, startAdmin, VIEWER_KEY } from './harness.js';

/** admin-api.md §1.2–§1.5: tokens, allow_admin, headers, CORS, body parsing, plugin endpoints. */

const TOKEN_ERROR = (description: string) => ({ error_msg: 'failed to check token', description });

describe('tokens (§1.2, §10.35)', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
  });
  after(() => admin.close());

  const CASES = [
    { name: 'no token', method: 'GET', key: null, status: 401, body: TOKEN_ERROR('missing apikey') },
    { name: 'a wrong token', method: 'GET', key: 'wrong', status: 401, body: TOKEN_ERROR('wrong apikey') },
    { name: 'an empty token', method: 'GET', key: '', status: 401, body: TOKEN_ERROR('wrong apikey') },
    {
      name: 'a viewer on PUT',
      method: 'PUT',
      key: VIEWER_KEY,
      status: 401,
      body: TOKEN_ERROR('invalid method for role viewer'),
    },
    {
      name: 'a viewer on DELETE',
      method: 'DELETE',
      key: VIEWER_KEY,
      status: 401,
      body: TOKEN_ERROR('invalid method for role viewer'),
    },
    { name: 'a viewer on GET', method: 'GET', key: VIEWER_KEY, status: 200, body: { list: [], total: 0 } },
    { name: 'the admin key', method: 'GET', key: ADMIN_KEY, status: 200, body: { list: [], total: 0 } },
  ] as const;
  for (const tokenCase of CASES) {
    test(`${tokenCase.name} → ${tokenCase.status}`, async () => {
      const path = tokenCase.method === 'GET' ? '/routes' : '/routes/viewer';
      const answer = await admin.call(tokenCase.method, path, {
        key: tokenCase.key,
        ...(tokenCase.method === 'PUT' ? { body: ROUTE } : {}),
      });
      assert.equal(answer.status, tokenCase.status, answer.text);
      assert.deepEqual(answer.json, tokenCase.body);
      if (tokenCase.status === 401) {
        assert.equal(answer.headers['x-api-version'], undefined, '401 carries no X-API-VERSION (§1.2 step 7)');
        assert.equal(answer.headers['content-type'], 'application/json');
      }
    });
  }

  test('the api_key query argument works and wins over the header', async () => {
    assert.equal((await admin.call('GET', `/routes?api_key=${ADMIN_KEY}`, { key: null })).status, 200);
    const queryWins = await admin.call('GET', '/routes?api_key=wrong', { key: ADMIN_KEY });
    assert.deepEqual(queryWins.json, TOKEN_ERROR('wrong apikey'));
  });

  test('the x_api_key cookie works when neither query nor header has a token', async () => {
    const answer = await admin.call('GET', '/routes', {
      key: null,
      headers: { cookie: `a=b; x_api_key=${ADMIN_KEY}` },
    });
    assert.equal(answer.status, 200, answer.text);
  });

  test('admin_key_required: false lets a wrong key through', async () => {
    const open = await startAdmin({ admin: { admin_key_required: false } });
    try {
      const answer = await open.call('PUT', '/routes/1', { key: 'wrong', body: ROUTE });
      assert.equal(answer.status, 201, answer.text);
    } finally {
      await open.close();
    }
  });
});

describe('allow_admin (§1.3)', () => {
  test('a client outside the list gets 403 before the token check', async () => {
    const admin = await startAdmin();
    try {
      const outside = await admin.call('GET', '/routes', { key: null, remoteAddress: '10.0.0.1' });
      assert.equal(outside.status, 403);
      assert.deepEqual(outside.json, { error_msg: 'forbidden' });
      assert.equal((await admin.call('GET', '/routes', { remoteAddress: '127.0.0.200' })).status, 200);
      assert.equal(
        (await admin.call('GET', '/routes', { remoteAddress: '::ffff:127.0.0.9' })).status,
        200,
        'IPv4-mapped IPv6',
      );
      assert.equal((await admin.call('GET', '/routes', { remoteAddress: '127.0.1.1' })).status, 403);
    } finally {
      await admin.close();
    }
  });

  test('0.0.0.0/0 and IPv6 entries', async () => {
    const admin = await startAdmin({ admin: { allow_admin: ['0.0.0.0/0', '::1'] } });
    try {
      assert.equal((await admin.call('GET', '/routes', { remoteAddress: '10.1.2.3' })).status, 200);
      assert.equal((await admin.call('GET', '/routes', { remoteAddress: '::1' })).status, 200);
      assert.equal((await admin.call('GET', '/routes', { remoteAddress: '2001:db8::1' })).status, 403);
    } finally {
      await admin.close();
    }
  });

  test('an empty list allows everyone', async () => {
    const admin = await startAdmin({ admin: { allow_admin: [] } });
    try {
      assert.equal((await admin.call('GET', '/routes', { remoteAddress: '192.0.2.1' })).status, 200);
    } finally {
      await admin.close();
    }
  });

  test('an invalid CIDR is a config error at start', async () => {
    const admin = await startAdmin();
    try {
      await assert.rejects(
        createAdminOver(admin.store, { allow_admin: ['127.0.0.0/33'] }),
        (error: unknown) =>
          isSwitchboardError(error, 'SB_ERR_CONFIG_INVALID') && /127\.0\.0\.0\/33/.test(error.message),
      );
    } finally {
      await admin.close();
    }
  });
});

describe('headers and CORS (§1.4, §10.34)', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
  });
  after(() => admin.close());

  test('a handler answer carries Server, exact JSON Content-Type, X-API-VERSION and CORS', async () => {
    const answer = await admin.call('GET', '/routes');
    assert.match(String(answer.headers.server), /^APISIX\/\d+\.\d+\.\d+/);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.equal(answer.headers['x-api-version'], 'v3');
    assert.equal(answer.headers['access-control-allow-origin'], '*');
    assert.equal(answer.headers['access-control-allow-credentials'], 'true');
    assert.equal(answer.headers['access-control-expose-headers'], '*');
    assert.equal(answer.headers['access-control-max-age'], '3600');
  });

  test('handler errors carry X-API-VERSION; routing errors do not', async () => {
    const missing = await admin.call('GET', '/routes/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['x-api-version'], 'v3');
    const unsupported = await admin.call('GET', '/routs');
    assert.equal(unsupported.status, 404);
    assert.equal(unsupported.headers['x-api-version'], undefined);
    assert.equal(unsupported.headers['content-type'], 'application/json');
  });

  test('OPTIONS is answered at once, without a token', async () => {
    const answer = await admin.call('OPTIONS', '/routes/1', { key: null });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '');
    assert.equal(answer.headers['content-type'], 'text/plain');
    assert.equal(answer.headers['content-length'], '0');
    assert.equal(answer.headers['access-control-allow-methods'], 'POST, GET, PUT, OPTIONS, DELETE, PATCH');
    assert.equal(answer.headers['access-control-allow-headers'], '*');
    assert.equal(answer.headers['access-control-allow-origin'], '*');
  });

  test('HEAD /apisix/admin is 200 without a token; GET /apisix/admin is a JSON 404', async () => {
    const head = await admin.app.inject({ method: 'HEAD', url: '/apisix/admin' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    const get = await admin.app.inject({ method: 'GET', url: '/apisix/admin' });
    assert.equal(get.statusCode, 404);
    assert.deepEqual(JSON.parse(get.body), { error_msg: 'not found' });
    const headResource = await admin.app.inject({ method: 'HEAD', url: '/apisix/admin/routes' });
    assert.equal(headResource.statusCode, 404, 'HEAD exists only on the exact base path');
  });

  test('enable_admin_cors: false and enable_server_tokens: false', async () => {
    const plain = await startAdmin({ admin: { enable_admin_cors: false }, serverTokens: false });
    try {
      const answer = await plain.call('GET', '/routes');
      assert.equal(answer.headers.server, 'APISIX');
      assert.equal(answer.headers['access-control-allow-origin'], undefined);
      const options = await plain.call('OPTIONS', '/routes', { key: null });
      assert.equal(options.status, 404);
    } finally {
      await plain.close();
    }
  });
});

describe('body parsing (§1.5)', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
  });
  after(() => admin.close());

  test('JSON is parsed whatever the Content-Type says', async () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', 'bad;;type', 'application/json']) {
      const answer = await admin.call('PUT', '/routes/1', { body: ROUTE, headers: { 'content-type': contentType } });
      assert.ok(answer.status === 200 || answer.status === 201, `${contentType}: ${answer.text}`);
    }
  });

  test('a body that is not JSON echoes the raw body', async () => {
    const raw = '{"uri": "/x",';
    const answer = await admin.call('PUT', '/routes/1', { raw });
    assert.equal(answer.status, 400);
    const body = answer.json as { error_msg: string; req_body: string };
    assert.match(body.error_msg, /^invalid request body: /);
    assert.equal(body.req_body, raw);
  });

  test('an empty body is "missing configurations"', async () => {
    const answer = await admin.call('PUT', '/routes/1', { raw: '' });
    assert.deepEqual([answer.status, answer.json], [400, { error_msg: 'missing configurations' }]);
    const nullBody = await admin.call('POST', '/routes', { raw: 'null' });
    assert.deepEqual([nullBody.status, nullBody.json], [400, { error_msg: 'missing configurations' }]);
  });

  test('a body that is not an object names its type', async () => {
    const answer = await admin.call('PUT', '/routes/1', { body: [1, 2] });
    assert.equal(answer.status, 400);
    assert.match(
      (answer.json as { error_msg: string }).error_msg,
      /^invalid configuration: wrong type: expected object/,
    );
  });

  test('the resource is resolved before the body is read', async () => {
    const answer = await admin.call('POST', '/routs', { raw: 'not json' });
    assert.deepEqual([answer.status, answer.json], [404, { error_msg: 'Unsupported resource type: routs' }]);
  });

  test('a chunked body over the limit reports its size', async () => {
    const big = 'x'.repeat(1_600_000);
    const response = await admin.app.inject({
      method: 'PUT',
      url: '/apisix/admin/routes/1',
      headers: { 'x-api-key': ADMIN_KEY, 'transfer-encoding': 'chunked' },
      payload: big,
    });
    assert.equal(response.statusCode, 400);
    assert.match(
      JSON.parse(response.body).error_msg,
      /^invalid request body: request size \d+ is greater than the maximum size 1572864 allowed$/,
    );
  });
});

describe('plugin endpoints', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
  });
  after(() => admin.close());

  test('plugins/list names the plugins by priority, highest first', async () => {
    const answer = await admin.call('GET', '/plugins/list');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, ['key-auth', 'ai-proxy-multi', 'ai-proxy', 'ai-rate-limiting']);
  });

  test('plugins/{name} returns the schema; schema_type=consumer the consumer schema', async () => {
    const route = await admin.call('GET', '/plugins/key-auth');
    assert.equal(route.status, 200);
    assert.equal((route.json as { type?: unknown }).type, 'object');
    const consumer = await admin.call('GET', '/plugins/key-auth?schema_type=consumer');
    assert.deepEqual((consumer.json as { required?: unknown }).required, ['key']);
  });

  test('an unknown plugin is 404 plugin not found; other methods are not found', async () => {
    const unknown = await admin.call('GET', '/plugins/no-such-plugin');
    assert.deepEqual([unknown.status, unknown.json], [404, { error_msg: 'plugin not found' }]);
    const put = await admin.call('PUT', '/plugins/key-auth', { body: {} });
    assert.deepEqual([put.status, put.json], [404, { error_msg: 'not found' }]);
  });
});
