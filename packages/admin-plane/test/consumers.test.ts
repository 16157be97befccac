import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AdminHarness, startAdmin } from './harness.js';

/** admin-api.md §3: consumers, credentials, key uniqueness, encryption at rest (§3.7). */

const T = 1_700_000_000;
const CIPHER = {
  'auth-one': '4y+JvURBE6ZwRbbgaryrhg==',
  'the-key': 'JCX7x1qN5e9kHt0GuJfWpw==',
  'new-key': '523EisB/dvqlIT9RzfF3ZQ==',
};

type ListBody = { list: { key: string; value: Record<string, unknown> }[]; total: number };

async function storedJson(admin: AdminHarness, key: string): Promise<Record<string, unknown> | undefined> {
  const item = await admin.store.get(key);
  return item === undefined ? undefined : (JSON.parse(item.value) as Record<string, unknown>);
}

describe('consumers and credentials', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
  });
  after(() => admin.close());

  test('§10.38 the key is ciphertext at rest and in the PUT answer, plaintext on GET; create_time survives a re-PUT', async () => {
    const first = await admin.call('PUT', '/consumers', {
      body: { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } },
    });
    assert.equal(first.status, 201);
    assert.deepEqual((await storedJson(admin, '/apisix/consumers/jack'))?.plugins, {
      'key-auth': { key: CIPHER['auth-one'] },
    });
    admin.advanceSeconds(5);
    const second = await admin.call('PUT', '/consumers/jack', {
      body: { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } },
    });
    assert.equal(second.status, 200);
    assert.deepEqual(second.json, {
      key: '/apisix/consumers/jack',
      value: {
        username: 'jack',
        plugins: { 'key-auth': { key: CIPHER['auth-one'] } },
        create_time: T,
        update_time: T + 5,
      },
    });
    const fetched = await admin.call('GET', '/consumers/jack');
    assert.deepEqual((fetched.json as { value: { plugins: unknown } }).value.plugins, {
      'key-auth': { key: 'auth-one' },
    });
  });

  test('credentials: stored under the consumer, listed in key order, hidden from the consumer list', async () => {
    for (const [id, key] of [
      ['cred-b', 'the-key'],
      ['cred-a', 'new-key'],
    ] as const) {
      const answer = await admin.call('PUT', `/consumers/jack/credentials/${id}`, {
        body: { plugins: { 'key-auth': { key } } },
      });
      assert.equal(answer.status, 201, answer.text);
      assert.deepEqual((await storedJson(admin, `/apisix/consumers/jack/credentials/${id}`))?.plugins, {
        'key-auth': { key: CIPHER[key] },
      });
    }
    const credentials = (await admin.call('GET', '/consumers/jack/credentials')).json as ListBody;
    assert.deepEqual(
      credentials.list.map((item) => item.key),
      ['/apisix/consumers/jack/credentials/cred-a', '/apisix/consumers/jack/credentials/cred-b'],
    );
    assert.deepEqual(credentials.list[0]?.value.plugins, { 'key-auth': { key: 'new-key' } }, 'lists decrypt too');
    assert.equal(credentials.total, 2);
    const single = await admin.call('GET', '/consumers/jack/credentials/cred-b');
    assert.deepEqual((single.json as { value: { plugins: unknown } }).value.plugins, {
      'key-auth': { key: 'the-key' },
    });
    const consumers = (await admin.call('GET', '/consumers')).json as ListBody;
    assert.deepEqual([consumers.total, consumers.list.map((item) => item.key)], [1, ['/apisix/consumers/jack']]);
  });

  test('a consumer cannot take a credential key; a credential id in the body must match the URL', async () => {
    const duplicate = await admin.call('PUT', '/consumers', {
      body: { username: 'rose', plugins: { 'key-auth': { key: 'the-key' } } },
    });
    assert.deepEqual(
      [duplicate.status, duplicate.json],
      [400, { error_msg: 'duplicate key of plugin key-auth found with credential: cred-b of consumer: jack' }],
    );
    const wrongId = await admin.call('PUT', '/consumers/jack/credentials/cred-a', {
      body: { id: 'cred-x', plugins: { 'key-auth': { key: 'new-key' } } },
    });
    assert.deepEqual([wrongId.status, wrongId.json], [400, { error_msg: 'wrong credential id' }]);
  });

  test('a consumer may reuse its own credential key; secret references are never duplicates', async () => {
    const own = await admin.call('PUT', '/consumers', {
      body: { username: 'jack', plugins: { 'key-auth': { key: 'the-key' } } },
    });
    assert.equal(own.status, 200, own.text);
    const first = await admin.call('PUT', '/consumers', {
      body: { username: 'env1', plugins: { 'key-auth': { key: '$env://KEY' } } },
    });
    const second = await admin.call('PUT', '/consumers', {
      body: { username: 'env2', plugins: { 'key-auth': { key: '$env://KEY' } } },
    });
    assert.deepEqual([first.status, second.status], [201, 201]);
  });

  test('credentials refuse POST and PATCH; DELETE without id names the kind', async () => {
    const post = await admin.call('POST', '/consumers/jack/credentials', { body: { plugins: {} } });
    assert.deepEqual([post.status, post.json], [405, { error_msg: 'not supported `POST` method for credential' }]);
    const patch = await admin.call('PATCH', '/consumers/jack/credentials/cred-a', { body: {} });
    assert.deepEqual([patch.status, patch.json], [405, { error_msg: 'not supported `PATCH` method for credential' }]);
    const noId = await admin.call('DELETE', '/consumers/jack/credentials');
    assert.deepEqual([noId.status, noId.json], [400, { error_msg: 'missing credential id' }]);
  });

  test('DELETE of a credential, then of the consumer takes the remaining credentials with it', async () => {
    const one = await admin.call('DELETE', '/consumers/jack/credentials/cred-a');
    assert.deepEqual(one.json, { deleted: '1', key: '/apisix/consumers/jack/credentials/cred-a' });
    const consumer = await admin.call('DELETE', '/consumers/jack');
    assert.deepEqual([consumer.status, consumer.json], [200, { deleted: '1', key: '/apisix/consumers/jack' }]);
    assert.deepEqual((await admin.store.list('/apisix/consumers/jack')).items, []);
    const after = await admin.call('GET', '/consumers/jack/credentials');
    assert.deepEqual([after.status, after.json], [404, { message: 'Key not found' }]);
    const again = await admin.call('DELETE', '/consumers/jack');
    assert.deepEqual([again.status, again.json], [404, { message: 'Key not found' }]);
  });
});

describe('encryption of route plugin secrets (§3.7)', () => {
  const AI_ROUTE = {
    uri: '/v1/chat/completions',
    plugins: {
      'ai-proxy-multi': {
        instances: [{ name: 'a', provider: 'openai', weight: 1, auth: { header: { Authorization: 'Bearer sk-1' } } }],
      },
    },
  };
  const headerOf = (value: unknown) =>
    (value as { plugins: { 'ai-proxy-multi': { instances: { auth: { header: { Authorization: string } } }[] } } })
      .plugins['ai-proxy-multi'].instances[0]?.auth.header.Authorization;

  test('PATCH decrypts, merges and re-encrypts once', async () => {
    const admin = await startAdmin();
    try {
      const put = await admin.call('PUT', '/routes/ai', { body: AI_ROUTE });
      const cipher = headerOf((put.json as { value: unknown }).value);
      assert.ok(cipher !== undefined && cipher !== 'Bearer sk-1', 'the PUT answer shows ciphertext');
      const patched = await admin.call('PATCH', '/routes/ai', { body: { desc: 'patched' } });
      assert.equal(headerOf((patched.json as { value: unknown }).value), cipher, 'not encrypted twice');
      const fetched = await admin.call('GET', '/routes/ai');
      assert.equal(headerOf((fetched.json as { value: unknown }).value), 'Bearer sk-1');
      const listed = (await admin.call('GET', '/routes')).json as ListBody;
      assert.equal(headerOf(listed.list[0]?.value), 'Bearer sk-1');
    } finally {
      await admin.close();
    }
  });

  test('enable_encrypt_fields: false stores plain text', async () => {
    const admin = await startAdmin({ dataEncryption: { enable_encrypt_fields: false, keyring: ['qeddd145sfvddff3'] } });
    try {
      await admin.call('PUT', '/consumers', {
        body: { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } },
      });
      assert.deepEqual((await storedJson(admin, '/apisix/consumers/jack'))?.plugins, {
        'key-auth': { key: 'auth-one' },
      });
    } finally {
      await admin.close();
    }
  });
});
