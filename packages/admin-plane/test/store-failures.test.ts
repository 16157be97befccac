import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConfigStore, SwitchboardError } from '@switchboard/core';
import { createAdminOver, injectAdmin, ROUTE, startAdmin } from './harness.js';

/** admin-api.md §1.6, §2.5 step 8, §5.7, §10.23: store outages, lost CAS races, ttl leases. */

function unavailable(): never {
  throw new SwitchboardError('SB_ERR_STORE_UNAVAILABLE', 'etcd: connect ECONNREFUSED 127.0.0.1:2379');
}

const DOWN_STORE: ConfigStore = {
  get: async () => unavailable(),
  list: async () => unavailable(),
  put: async () => unavailable(),
  putIfUnchanged: async () => unavailable(),
  delete: async () => unavailable(),
  deletePrefix: async () => unavailable(),
  close: async () => {},
};

describe('store failures', () => {
  const REQUESTS = [
    ['GET', '/routes'],
    ['GET', '/routes/1'],
    ['PUT', '/routes/1'],
    ['POST', '/routes'],
    ['PATCH', '/routes/1'],
    ['DELETE', '/routes/1'],
    ['PUT', '/consumers'],
  ] as const;
  for (const [method, path] of REQUESTS) {
    test(`${method} ${path} while the store is down → 503 with the store's message`, async () => {
      const app = await createAdminOver(DOWN_STORE);
      const body = path === '/consumers' ? { username: 'jack' } : ROUTE;
      const answer = await injectAdmin(app, method, path, method === 'GET' || method === 'DELETE' ? {} : { body });
      assert.deepEqual([answer.status, answer.json], [503, { error_msg: 'etcd: connect ECONNREFUSED 127.0.0.1:2379' }]);
      await app.close();
    });
  }

  test('an unexpected store error keeps its message (never a bare 500)', async () => {
    const app = await createAdminOver({
      ...DOWN_STORE,
      get: async () => {
        throw new Error('disk on fire');
      },
    });
    const answer = await injectAdmin(app, 'GET', '/routes/1');
    assert.deepEqual([answer.status, answer.json], [500, { error_msg: 'disk on fire' }]);
    await app.close();
  });

  test('a PATCH that loses the compare-and-swap → 503 value changed before overwritten', async () => {
    const admin = await startAdmin();
    try {
      await admin.call('PUT', '/routes/1', { body: ROUTE });
      const racing: ConfigStore = {
        ...admin.store,
        get: (key) => admin.store.get(key),
        list: (prefix) => admin.store.list(prefix),
        put: (key, value, options) => admin.store.put(key, value, options),
        delete: (key) => admin.store.delete(key),
        deletePrefix: (prefix) => admin.store.deletePrefix(prefix),
        // Another writer gets in between the read and the swap.
        putIfUnchanged: async (key, value, modRevision) => {
          await admin.store.put(key, JSON.stringify({ ...ROUTE, desc: 'other writer' }));
          return admin.store.putIfUnchanged(key, value, modRevision);
        },
        close: async () => {},
      };
      const app = await createAdminOver(racing);
      const answer = await injectAdmin(app, 'PATCH', '/routes/1', { body: { desc: 'mine' } });
      assert.deepEqual([answer.status, answer.json], [503, { error_msg: 'value changed before overwritten' }]);
      const stored = JSON.parse((await admin.store.get('/apisix/routes/1'))?.value ?? '{}') as { desc?: string };
      assert.equal(stored.desc, 'other writer');
      await app.close();
    } finally {
      await admin.close();
    }
  });

  test('§10.23 ?ttl=1 binds the key to a lease that expires', async () => {
    const admin = await startAdmin();
    try {
      const created = await admin.call('PUT', '/routes/1?ttl=1', { body: ROUTE });
      assert.equal(created.status, 201, created.text);
      assert.equal((await admin.call('GET', '/routes/1')).status, 200);
      admin.storeClock.advance(2_500);
      const deadline = Date.now() + 5_000;
      let answer = await admin.call('GET', '/routes/1');
      while (answer.status !== 404 && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
        answer = await admin.call('GET', '/routes/1');
      }
      assert.deepEqual([answer.status, answer.json], [404, { message: 'Key not found' }]);
    } finally {
      await admin.close();
    }
  });
});
