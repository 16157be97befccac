import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { mergePatch, patchSubPath } from '../src/patch.js';
import { type AdminHarness, ROUTE, startAdmin } from './harness.js';

/** admin-api.md §2.4–§2.5, §10.28–30. */

const T = 1_700_000_000;

describe('mergePatch and patchSubPath', () => {
  const MERGES = [
    { name: 'null deletes a key', stored: { a: 1, b: 2 }, patch: { a: null }, merged: { b: 2 } },
    {
      name: 'objects merge key by key',
      stored: { o: { x: 1, y: 2 } },
      patch: { o: { y: 3, z: 4 } },
      merged: { o: { x: 1, y: 3, z: 4 } },
    },
    {
      name: 'arrays replace arrays',
      stored: { m: ['GET', 'POST', 'PUT'] },
      patch: { m: ['GET'] },
      merged: { m: ['GET'] },
    },
    {
      name: 'an empty object replaces (QUIRK)',
      stored: { labels: { a: '1' } },
      patch: { labels: {} },
      merged: { labels: {} },
    },
    { name: 'an object replaces a scalar', stored: { a: 1 }, patch: { a: { b: 1 } }, merged: { a: { b: 1 } } },
  ] as const;
  for (const { name, stored, patch, merged } of MERGES) {
    test(name, () => {
      const before = structuredClone(stored);
      assert.deepEqual(mergePatch(stored, patch), merged);
      assert.deepEqual(stored, before, 'the stored value is not mutated');
    });
  }

  test('sub-paths create missing objects and refuse to walk into scalars', () => {
    assert.deepEqual(patchSubPath({ uri: '/a' }, 'upstream/nodes', { x: 1 }), {
      uri: '/a',
      upstream: { nodes: { x: 1 } },
    });
    assert.deepEqual(patchSubPath({ uri: '/a', desc: 'd' }, 'desc', null), { uri: '/a' });
    assert.throws(() => patchSubPath({ uri: '/a' }, 'uri/x', 1), { message: 'invalid sub-path: /uri' });
    assert.throws(() => patchSubPath({ a: { b: 'c' } }, 'a/b/c/d', 1), { message: 'invalid sub-path: /a/b' });
  });
});

describe('PATCH /apisix/admin/routes', () => {
  let admin: AdminHarness;
  beforeEach(async () => {
    await admin?.close();
    admin = await startAdmin();
    const created = await admin.call('PUT', '/routes/1', {
      body: { ...ROUTE, methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], labels: { a: '1' } },
    });
    assert.equal(created.status, 201, created.text);
    admin.advanceSeconds(10);
  });
  after(() => admin?.close());

  async function patch(path: string, body: unknown) {
    const answer = await admin.call('PATCH', path, { body });
    return {
      status: answer.status,
      json: answer.json as { key?: string; value?: Record<string, unknown>; error_msg?: string },
    };
  }

  test('§10.28 a whole-body patch keeps create_time and moves update_time', async () => {
    const answer = await patch('/routes/1', { uri: '/patch_test' });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.key, '/apisix/routes/1');
    assert.equal(answer.json.value?.uri, '/patch_test');
    assert.equal(answer.json.value?.create_time, T);
    assert.equal(answer.json.value?.update_time, T + 10);
    const stored = await admin.call('GET', '/routes/1');
    assert.deepEqual((stored.json as { value: unknown }).value, answer.json.value);
  });

  test('§2.4 a whole-body patch that sets update_time keeps it', async () => {
    const answer = await patch('/routes/1', { update_time: 42 });
    assert.equal(answer.json.value?.update_time, 42);
  });

  test('§10.29 null removes a node; a shorter methods array replaces', async () => {
    await patch('/routes/1', { upstream: { nodes: { '127.0.0.2:8080': 1 } } });
    const nodes = await patch('/routes/1', { upstream: { nodes: { '127.0.0.1:8080': null } } });
    assert.deepEqual(nodes.json.value?.upstream, { nodes: { '127.0.0.2:8080': 1 }, type: 'roundrobin' });
    const methods = await patch('/routes/1', { methods: ['GET', 'POST'] });
    assert.deepEqual(methods.json.value?.methods, ['GET', 'POST']);
  });

  test('§10.30 sub-path patches replace one field and always move update_time', async () => {
    const methods = await patch('/routes/1/methods', ['POST']);
    assert.equal(methods.status, 200);
    assert.deepEqual(methods.json.value?.methods, ['POST']);
    const uri = await patch('/routes/1/uri', '/patch_uri_test');
    assert.equal(uri.json.value?.uri, '/patch_uri_test');
    assert.equal(uri.json.value?.update_time, T + 10);
    const trailing = await patch('/routes/1/', { desc: 'whole merge' });
    assert.equal(trailing.json.value?.desc, 'whole merge');
    assert.equal(trailing.json.value?.uri, '/patch_uri_test');
  });

  test('an empty object replaces the old value (Appendix A)', async () => {
    const answer = await patch('/routes/1', { labels: {} });
    assert.deepEqual(answer.json.value?.labels, {});
  });

  const ERRORS = [
    { name: 'no id', path: '/routes', body: { uri: '/x' }, status: 400, json: { error_msg: 'missing route id' } },
    {
      name: 'no body',
      path: '/routes/1',
      body: undefined,
      status: 400,
      json: { error_msg: 'missing new configuration' },
    },
    {
      name: 'a whole-body patch that is not an object',
      path: '/routes/1',
      body: ['x'],
      status: 400,
      json: { error_msg: 'invalid configuration' },
    },
    { name: 'a missing key', path: '/routes/2', body: { uri: '/x' }, status: 404, json: { message: 'Key not found' } },
    {
      name: 'walking into a scalar',
      path: '/routes/1/uri/deeper',
      body: 1,
      status: 400,
      json: { error_msg: 'invalid sub-path: /uri' },
    },
    {
      name: 'a different id',
      path: '/routes/1',
      body: { id: '2' },
      status: 400,
      json: { error_msg: 'wrong route id' },
    },
    {
      name: 'a merged value that fails the schema',
      path: '/routes/1',
      body: { methods: ['invalid_method'] },
      status: 400,
      json: {
        error_msg:
          'invalid configuration: property "methods" validation failed: failed to validate item 1: matches none of the enum values',
      },
    },
    {
      name: 'a reference that does not exist',
      path: '/routes/1',
      body: { upstream_id: 'nope', upstream: null },
      status: 400,
      json: { error_msg: 'failed to fetch upstream info by upstream id [nope], response code: 404' },
    },
  ] as const;
  for (const errorCase of ERRORS) {
    test(`${errorCase.name} → ${errorCase.status}`, async () => {
      const answer = await admin.call(
        'PATCH',
        errorCase.path,
        errorCase.body === undefined ? {} : { body: errorCase.body },
      );
      assert.deepEqual([answer.status, answer.json], [errorCase.status, errorCase.json]);
    });
  }

  test('a numeric stored id becomes the URL id string, as APISIX stores it', async () => {
    await admin.call('PUT', '/routes', { body: { ...ROUTE, id: 5 } });
    const answer = await patch('/routes/5', { desc: 'patched' });
    assert.equal(answer.json.value?.id, '5');
  });
});
