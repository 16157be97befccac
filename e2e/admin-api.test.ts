import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AdminClient, AdminResponse } from './support/admin-client.js';
import { admin as adminClient } from './support/admin-client.js';
import { ERROR_CASES, type Expected, errorMessage, ROUTE } from './support/admin-pinned-cases.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { headerOf } from './support/http.js';
import { randomLetters } from './support/switchboard-config.js';

/**
 * The Admin API of a real control plane over real HTTP, against a real etcd: the pinned cases of
 * admin-api.md §10 (status and exact body), token checks (§1.2), and that etcd holds APISIX's
 * layout and JSON (§5.1, §5.2).
 */

const ADMIN_KEY = randomLetters(32);
const VIEWER_KEY = randomLetters(32);

function assertExpected(response: AdminResponse, status: number, expected: Expected, label: string): void {
  assert.equal(response.status, status, `${label}: status (body ${response.text})`);
  if ('exact' in expected) {
    assert.deepEqual(response.body, expected.exact, `${label}: body`);
  } else {
    const body = response.body as { error_msg?: unknown } | undefined;
    assert.match(String(body?.error_msg), expected.errorMatches, `${label}: error_msg`);
  }
}

function storedValueOf(response: AdminResponse): Record<string, unknown> {
  const body = response.body as { value?: Record<string, unknown> } | undefined;
  assert.ok(body?.value, `no value in ${response.text}`);
  return body.value;
}

describe('Admin API on a control plane with etcd', () => {
  let cluster: Cluster;
  let api: AdminClient;
  before(async () => {
    cluster = await startCluster({
      dataPlanes: 0,
      controlPlaneConfig: {
        deployment: {
          admin: {
            admin_key: [
              { name: 'admin', key: ADMIN_KEY, role: 'admin' },
              { name: 'viewer', key: VIEWER_KEY, role: 'viewer' },
            ],
          },
        },
      },
    });
    api = cluster.admin;
  });
  after(() => cluster?.close());

  test('an empty store lists no routes and no consumers (§10.31)', async () => {
    for (const path of ['/routes', '/consumers']) {
      const response = await api.get(path);
      assertExpected(response, 200, { exact: { list: [], total: 0 } }, path);
    }
  });

  describe('pinned error cases (§10, §1.6)', () => {
    for (const errorCase of ERROR_CASES) {
      test(errorCase.name, async () => {
        const response = await api.request(
          errorCase.method,
          errorCase.path,
          errorCase.body === undefined ? {} : { body: errorCase.body },
        );
        assertExpected(response, errorCase.status, errorCase.expected, errorCase.name);
      });
    }

    test('§1.5 a body that is not JSON echoes the raw body', async () => {
      const raw = '{"uri": "/x",';
      const response = await api.put('/routes/1', raw);
      assert.equal(response.status, 400);
      const body = response.body as { error_msg?: unknown; req_body?: unknown };
      assert.match(String(body.error_msg), /^invalid request body: /);
      assert.equal(body.req_body, raw);
    });

    test('§10.32 page_size outside 10..500', async () => {
      const response = await api.get('/routes?page=1&page_size=2');
      assert.equal(response.status, 400);
      assert.match(response.text, /page_size must be between 10 and 500/);
    });
  });

  describe('tokens (§1.2, §10.34–35)', () => {
    const AUTH_CASES = [
      {
        name: 'no key',
        key: null,
        method: 'GET',
        status: 401,
        body: { error_msg: 'failed to check token', description: 'missing apikey' },
      },
      {
        name: 'a wrong key',
        key: 'wrong',
        method: 'GET',
        status: 401,
        body: { error_msg: 'failed to check token', description: 'wrong apikey' },
      },
      {
        name: 'a viewer key on PUT',
        key: VIEWER_KEY,
        method: 'PUT',
        status: 401,
        body: { error_msg: 'failed to check token', description: 'invalid method for role viewer' },
      },
      { name: 'a viewer key on GET', key: VIEWER_KEY, method: 'GET', status: 200, body: undefined },
      { name: 'the admin key', key: ADMIN_KEY, method: 'GET', status: 200, body: undefined },
    ] as const;
    for (const authCase of AUTH_CASES) {
      test(`${authCase.name} → ${authCase.status}`, async () => {
        const response = await api.request(
          authCase.method,
          authCase.method === 'PUT' ? '/routes/viewer-test' : '/routes',
          {
            key: authCase.key,
            ...(authCase.method === 'PUT' ? { body: ROUTE } : {}),
          },
        );
        assert.equal(response.status, authCase.status, response.text);
        if (authCase.body !== undefined) {
          assert.deepEqual(response.body, authCase.body);
          assert.equal(headerOf(response, 'x-api-version'), '', '401 carries no X-API-VERSION');
          assert.match(headerOf(response, 'content-type'), /^application\/json/);
        }
      });
    }

    test('the key may come in the api_key query argument', async () => {
      const response = await api.get(`/routes?api_key=${ADMIN_KEY}`, { key: null });
      assert.equal(response.status, 200);
    });

    test('HEAD /apisix/admin needs no key', async () => {
      const anonymous = adminClient(cluster.controlPlane.adminUrl ?? '', undefined);
      const response = await anonymous.request('HEAD', '');
      assert.equal(response.status, 200);
    });

    test('successful answers carry the admin headers (§1.4, §10.34)', async () => {
      const response = await api.get('/routes');
      assert.match(headerOf(response, 'content-type'), /^application\/json/);
      assert.equal(headerOf(response, 'x-api-version'), 'v3');
      assert.equal(headerOf(response, 'access-control-allow-origin'), '*');
    });
  });

  test('route CRUD with v3 bodies, stored in etcd as APISIX stores it', async () => {
    const created = await api.put('/routes/1', ROUTE);
    assert.equal(created.status, 201, created.text);
    const createdValue = storedValueOf(created);
    assert.equal((created.body as { key?: unknown }).key, '/apisix/routes/1');
    const { create_time: createTime, update_time: updateTime, ...rest } = createdValue;
    assert.deepEqual(rest, { ...ROUTE, id: '1' }, 'the stored value is the input plus id and times (§2.8)');
    assert.ok(Number.isInteger(createTime) && Number.isInteger(updateTime));

    const stored = await cluster.etcdReader.get('/apisix/routes/1');
    assert.ok(stored !== undefined, 'etcd has /apisix/routes/1');
    assert.deepEqual(JSON.parse(stored), createdValue, 'etcd holds the JSON value');

    const replaced = await api.put('/routes/1', ROUTE);
    assert.equal(replaced.status, 200, 'PUT of an existing key answers 200');
    assert.equal(storedValueOf(replaced).create_time, createTime, 'create_time is kept (§2.4)');

    const fetched = await api.get('/routes/1');
    assert.equal(fetched.status, 200);
    const fetchedBody = fetched.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(fetchedBody).sort(), ['createdIndex', 'key', 'modifiedIndex', 'value']);
    assert.equal(fetchedBody.key, '/apisix/routes/1');
    assert.ok(typeof fetchedBody.createdIndex === 'number' && typeof fetchedBody.modifiedIndex === 'number');
    assert.ok(fetchedBody.modifiedIndex > fetchedBody.createdIndex, 'the replace bumped modifiedIndex');

    const listed = await api.get('/routes');
    assert.equal((listed.body as { total?: unknown }).total, 1);

    const patched = await api.patch('/routes/1', { uri: '/patch_test' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(storedValueOf(patched).uri, '/patch_test');
    assert.equal(storedValueOf(patched).create_time, createTime, 'PATCH keeps create_time (§10.28)');

    const nodesPatched = await api.patch('/routes/1', {
      upstream: { nodes: { '127.0.0.1:8080': null, '127.0.0.2:8080': 1 } },
    });
    assert.deepEqual(
      (storedValueOf(nodesPatched).upstream as { nodes?: unknown }).nodes,
      { '127.0.0.2:8080': 1 },
      'null deletes (§10.29)',
    );

    const subPath = await api.patch('/routes/1/methods', ['POST']);
    assert.equal(subPath.status, 200, subPath.text);
    assert.deepEqual(storedValueOf(subPath).methods, ['POST'], 'sub-path PATCH replaces the field (§10.30)');

    const deleted = await api.delete('/routes/1');
    assertExpected(deleted, 200, { exact: { deleted: '1', key: '/apisix/routes/1' } }, 'DELETE');
    assert.equal(await cluster.etcdReader.get('/apisix/routes/1'), undefined, 'etcd no longer has the key');
  });

  test('POST generates a 20-digit id; PUT without URL id keeps a numeric body id (§10.5–6)', async () => {
    const posted = await api.post('/routes', ROUTE);
    assert.equal(posted.status, 201, posted.text);
    const key = String((posted.body as { key?: unknown }).key);
    assert.match(key, /^\/apisix\/routes\/\d{20}$/);
    assert.equal(storedValueOf(posted).id, key.slice('/apisix/routes/'.length));
    assert.ok(await cluster.etcdReader.get(key));

    const numeric = await api.put('/routes', { ...ROUTE, id: 7 });
    assert.ok(numeric.status === 201 || numeric.status === 200, numeric.text);
    assert.equal(storedValueOf(numeric).id, 7);
    assert.equal((numeric.body as { key?: unknown }).key, '/apisix/routes/7');
    await api.delete('/routes/7');
    await api.delete(`/routes/${key.slice('/apisix/routes/'.length)}`);
  });

  test('consumers and credentials: layout, encryption at rest, duplicates (§3, §10.37–48)', async () => {
    const jack = await api.put('/consumers', { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } });
    assert.equal(jack.status, 201, jack.text);
    assert.equal((jack.body as { key?: unknown }).key, '/apisix/consumers/jack');
    const jackValue = storedValueOf(jack);
    assert.equal(jackValue.id, undefined, 'a consumer value has no id');
    assert.deepEqual(
      jackValue.plugins,
      { 'key-auth': { key: '4y+JvURBE6ZwRbbgaryrhg==' } },
      'the PUT answer shows ciphertext (§3.7)',
    );

    const storedJack = JSON.parse((await cluster.etcdReader.get('/apisix/consumers/jack')) ?? '{}') as Record<
      string,
      unknown
    >;
    assert.deepEqual(storedJack.plugins, { 'key-auth': { key: '4y+JvURBE6ZwRbbgaryrhg==' } }, 'etcd holds ciphertext');

    const fetched = await api.get('/consumers/jack');
    assert.deepEqual(storedValueOf(fetched).plugins, { 'key-auth': { key: 'auth-one' } }, 'GET decrypts');

    const rose = await api.put('/consumers', { username: 'Jack-and-Rose_123' });
    assert.equal(rose.status, 201, '§10.40');

    const duplicate = await api.put('/consumers', { username: 'case_b', plugins: { 'key-auth': { key: 'auth-one' } } });
    assertExpected(
      duplicate,
      400,
      errorMessage('duplicate key of plugin key-auth found with consumer: jack'),
      '§10.43',
    );

    const credential = await api.put('/consumers/jack/credentials/cred-1', {
      plugins: { 'key-auth': { key: 'cred-key-1' } },
    });
    assert.equal(credential.status, 201, credential.text);
    assert.equal((credential.body as { key?: unknown }).key, '/apisix/consumers/jack/credentials/cred-1');
    assert.ok(await cluster.etcdReader.get('/apisix/consumers/jack/credentials/cred-1'));

    const consumers = await api.get('/consumers');
    assert.equal((consumers.body as { total?: unknown }).total, 2, 'credentials are not listed as consumers (§10.47)');
    const credentials = await api.get('/consumers/jack/credentials');
    assert.equal((credentials.body as { total?: unknown }).total, 1);

    const postCredential = await api.post('/consumers/jack/credentials', { plugins: { 'key-auth': { key: 'k' } } });
    assertExpected(postCredential, 405, errorMessage('not supported `POST` method for credential'), '§3.3');

    const deleted = await api.delete('/consumers/jack');
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(
      await cluster.etcdReader.list('/apisix/consumers/jack'),
      [],
      'the consumer and its credentials are gone',
    );
    const after = await api.get('/consumers/jack/credentials');
    assertExpected(after, 404, { exact: { message: 'Key not found' } }, '§10.47 after delete');
    await api.delete('/consumers/Jack-and-Rose_123');
  });
});
