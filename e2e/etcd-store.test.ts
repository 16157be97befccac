import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createEtcdStore } from '@switchboard/admin-plane';
import type { ConfigStore } from '@switchboard/core';
import { isSwitchboardError } from '@switchboard/core';
import { Etcd3 } from 'etcd3';
import { type EtcdInstance, startEtcd } from './support/etcd.js';
import { pollUntil } from './support/poll.js';

describe('etcd ConfigStore (Admin API side, admin-api.md §5.2)', () => {
  let etcd: EtcdInstance;
  let store: ConfigStore;

  before(async () => {
    etcd = await startEtcd();
    store = createEtcdStore({ hosts: [etcd.clientUrl], timeoutSeconds: 3 });
  });
  after(async () => {
    await store?.close();
    await etcd?.close();
  });

  test('put reports created from prev_kv; get and list return numeric revisions in key order', async () => {
    const first = await store.put('/crud/routes/2', '{"uri":"/2"}');
    assert.equal(first.created, true);
    assert.deepEqual(first.item, {
      key: '/crud/routes/2',
      value: '{"uri":"/2"}',
      createRevision: first.revision,
      modRevision: first.revision,
    });
    await store.put('/crud/routes/10', '{"uri":"/10"}');
    const replaced = await store.put('/crud/routes/2', '{"uri":"/two"}');
    assert.equal(replaced.created, false);
    assert.equal(replaced.item.createRevision, first.revision);
    assert.ok(replaced.revision > first.revision);

    assert.deepEqual(await store.get('/crud/routes/2'), {
      key: '/crud/routes/2',
      value: '{"uri":"/two"}',
      createRevision: first.revision,
      modRevision: replaced.revision,
    });
    assert.equal(await store.get('/crud/routes/'), undefined, 'get is an exact key, not a prefix');
    assert.equal(await store.get('/crud/routes/404'), undefined);

    const listed = await store.list('/crud/routes/');
    assert.deepEqual(
      listed.items.map((item) => item.key),
      ['/crud/routes/10', '/crud/routes/2'],
    );
    assert.equal(listed.revision, replaced.revision);
    assert.deepEqual(await store.list('/crud/nothing/'), { items: [], revision: replaced.revision });
  });

  test('each put gets a fresh revision, as POST id generation needs (§2.2)', async () => {
    const a = await store.put('/crud/gen_id', '1');
    const b = await store.put('/crud/gen_id', '1');
    assert.equal(b.revision, a.revision + 1);
  });

  test('putIfUnchanged is a compare-and-swap on mod_revision', async () => {
    const { item } = await store.put('/crud/cas/1', '{"v":1}');
    assert.equal(await store.putIfUnchanged('/crud/cas/1', '{"v":2}', item.modRevision), true);
    assert.equal(await store.putIfUnchanged('/crud/cas/1', '{"v":3}', item.modRevision), false);
    assert.equal((await store.get('/crud/cas/1'))?.value, '{"v":2}');
  });

  test('delete and deletePrefix resolve the etcd deleted count', async () => {
    await store.put('/crud/consumers/jack', '{}');
    await store.put('/crud/consumers/jack/credentials/a', '{}');
    await store.put('/crud/consumers/jack/credentials/b', '{}');
    assert.equal(await store.deletePrefix('/crud/consumers/jack/credentials/'), 2);
    assert.equal(await store.delete('/crud/consumers/jack'), 1);
    assert.equal(await store.delete('/crud/consumers/jack'), 0);
    assert.deepEqual((await store.list('/crud/consumers/')).items, []);
  });

  test('a ttl put is bound to a lease and disappears', async () => {
    const { created } = await store.put('/crud/ttl/1', '{}', { ttlSeconds: 1 });
    assert.equal(created, true);
    assert.notEqual(await store.get('/crud/ttl/1'), undefined);
    await pollUntil(async () => (await store.get('/crud/ttl/1')) === undefined, {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: 'the ttl key to expire',
    });
  });

  test('with etcd stopped every call fails with SB_ERR_STORE_UNAVAILABLE (503) and etcd text; it recovers', async () => {
    await store.put('/crud/outage/1', '{}');
    await etcd.stop();
    try {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['get', () => store.get('/crud/outage/1')],
        ['list', () => store.list('/crud/')],
        ['put', () => store.put('/crud/outage/2', '{}')],
        ['putIfUnchanged', () => store.putIfUnchanged('/crud/outage/1', '{}', 1)],
        ['delete', () => store.delete('/crud/outage/1')],
        ['deletePrefix', () => store.deletePrefix('/crud/outage/')],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(isSwitchboardError(error, 'SB_ERR_STORE_UNAVAILABLE'), `${name}: ${String(error)}`);
          assert.equal(error.status, 503);
          assert.ok(error.message.length > 0, `${name} carries the etcd error text`);
          return true;
        });
      }
    } finally {
      await etcd.start();
    }
    const recovered = await pollUntil(() => store.get('/crud/outage/1'), {
      timeoutMs: 15_000,
      description: 'the store to answer again',
    });
    assert.equal(recovered.key, '/crud/outage/1');
  });
});

describe('etcd ConfigStore with etcd authentication (deployment.etcd.user/password)', () => {
  let etcd: EtcdInstance;

  before(async () => {
    etcd = await startEtcd();
    const root = new Etcd3({ hosts: etcd.clientUrl });
    try {
      await root.user('root').create('root-secret');
      await root.user('root').addRole('root');
      await root.auth.authEnable();
    } finally {
      root.close();
    }
  });
  after(async () => {
    await etcd?.close();
  });

  test('the right password reads and writes', async () => {
    const store = createEtcdStore({
      hosts: [etcd.clientUrl],
      timeoutSeconds: 3,
      user: 'root',
      password: 'root-secret',
    });
    try {
      assert.equal((await store.put('/auth/routes/1', '{}')).created, true);
      assert.equal((await store.get('/auth/routes/1'))?.value, '{}');
    } finally {
      await store.close();
    }
  });

  const refusedCases = [
    { name: 'a wrong password', credentials: { user: 'root', password: 'wrong' } },
    { name: 'no credentials', credentials: {} },
  ];
  for (const { name, credentials } of refusedCases) {
    test(`${name} is SB_ERR_STORE_UNAVAILABLE with etcd's message`, async () => {
      const store = createEtcdStore({ hosts: [etcd.clientUrl], timeoutSeconds: 3, ...credentials });
      try {
        await assert.rejects(store.get('/auth/routes/1'), (error: unknown) => {
          assert.ok(isSwitchboardError(error, 'SB_ERR_STORE_UNAVAILABLE'), String(error));
          assert.match(error.message, /auth|password|user|token|permission/i);
          return true;
        });
      } finally {
        await store.close();
      }
    });
  }
});
