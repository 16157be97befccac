import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AdminHarness, ROUTE, startAdmin } from './harness.js';

/** admin-api.md §2.3 step 5.5 and §4: references must exist; used services/upstreams are not deleted. */

const UPSTREAM = { nodes: { '127.0.0.1:8080': 1 }, type: 'roundrobin' };

describe('services, upstreams and references', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
  });
  after(() => admin.close());

  test('a route may point at an existing upstream and service', async () => {
    assert.equal((await admin.call('PUT', '/upstreams/u1', { body: UPSTREAM })).status, 201);
    assert.equal((await admin.call('PUT', '/services/s1', { body: { upstream_id: 'u1' } })).status, 201);
    const route = await admin.call('PUT', '/routes/r1', { body: { uri: '/a', service_id: 's1' } });
    assert.equal(route.status, 201, route.text);
    const direct = await admin.call('PUT', '/routes/r2', { body: { uri: '/b', upstream_id: 'u1' } });
    assert.equal(direct.status, 201, direct.text);
  });

  test('upstream_id is checked before service_id (§2.3)', async () => {
    const answer = await admin.call('PUT', '/routes/r3', {
      body: { uri: '/c', upstream_id: 'gone', service_id: 'gone' },
    });
    assert.deepEqual(
      [answer.status, answer.json],
      [400, { error_msg: 'failed to fetch upstream info by upstream id [gone], response code: 404' }],
    );
  });

  test('a service must point at an existing upstream', async () => {
    const answer = await admin.call('PUT', '/services/s2', { body: { upstream_id: 'gone' } });
    assert.deepEqual(
      [answer.status, answer.json],
      [400, { error_msg: 'failed to fetch upstream info by upstream id [gone], response code: 404' }],
    );
  });

  test('a used service or upstream is not deleted', async () => {
    const service = await admin.call('DELETE', '/services/s1');
    assert.deepEqual(
      [service.status, service.json],
      [400, { error_msg: 'can not delete this service directly, route [r1] is still using it now' }],
    );
    const upstream = await admin.call('DELETE', '/upstreams/u1');
    assert.deepEqual(
      [upstream.status, upstream.json],
      [400, { error_msg: 'can not delete this upstream, route [r2] is still using it now' }],
    );
    await admin.call('DELETE', '/routes/r2');
    const viaService = await admin.call('DELETE', '/upstreams/u1');
    assert.deepEqual(viaService.json, {
      error_msg: 'can not delete this upstream, service [s1] is still using it now',
    });
  });

  test('?force=true deletes anyway', async () => {
    const answer = await admin.call('DELETE', '/upstreams/u1?force=true');
    assert.deepEqual([answer.status, answer.json], [200, { deleted: '1', key: '/apisix/upstreams/u1' }]);
  });

  test('services and upstreams take POST and PATCH like routes', async () => {
    const posted = await admin.call('POST', '/upstreams', { body: UPSTREAM });
    assert.equal(posted.status, 201);
    const key = (posted.json as { key: string }).key;
    assert.match(key, /^\/apisix\/upstreams\/\d{20}$/);
    const patched = await admin.call('PATCH', `/upstreams/${key.slice('/apisix/upstreams/'.length)}`, {
      body: { desc: 'x' },
    });
    assert.equal((patched.json as { value: { desc: string } }).value.desc, 'x');
    const badUpstream = await admin.call('PUT', '/upstreams/u9', {
      body: { nodes: { '127.0.0.1:8080': 1 }, type: 'chash', hash_on: 'header' },
    });
    assert.deepEqual(badUpstream.json, { error_msg: 'missing key' });
  });

  test('DELETE without an id names the kind', async () => {
    for (const [path, kind] of [
      ['/routes', 'route'],
      ['/services', 'service'],
      ['/upstreams', 'upstream'],
      ['/consumers', 'consumer'],
    ] as const) {
      const answer = await admin.call('DELETE', path);
      assert.deepEqual([answer.status, answer.json], [400, { error_msg: `missing ${kind} id` }]);
    }
  });

  test('routes are deleted without a reference check', async () => {
    await admin.call('PUT', '/routes/plain', { body: ROUTE });
    assert.equal((await admin.call('DELETE', '/routes/plain')).status, 200);
  });
});
