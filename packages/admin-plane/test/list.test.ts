import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AdminHarness, ROUTE, startAdmin } from './harness.js';

/** admin-api.md §1.7–§1.8, §10.31–33: list order, filters, paging. */

interface ListBody {
  readonly list: readonly {
    readonly key: string;
    readonly value: Record<string, unknown>;
    readonly createdIndex: number;
  }[];
  readonly total: number;
}

function idsOf(body: unknown): string[] {
  return (body as ListBody).list.map((item) => item.key.slice('/apisix/routes/'.length));
}

describe('route lists', () => {
  let admin: AdminHarness;
  before(async () => {
    admin = await startAdmin();
    // Created in the order 1..11 so createdIndex ascends with the number; names equal the ids.
    for (let id = 1; id <= 11; id += 1) {
      const labels = id <= 3 ? { env: 'production' } : id <= 5 ? { team: 'ai' } : undefined;
      const route = {
        ...ROUTE,
        name: String(id),
        uri: `/r${id}`,
        ...(labels === undefined ? {} : { labels }),
        ...(id === 7 ? { uri: undefined, uris: ['/multi/a', '/multi/b'] } : {}),
      };
      const answer = await admin.call('PUT', `/routes/${id}`, { body: route });
      assert.equal(answer.status, 201, answer.text);
    }
    await admin.call('PUT', '/upstreams/u1', { body: { nodes: { '127.0.0.1:80': 1 } } });
    await admin.call('PUT', '/routes/12', { body: { uri: '/twelve', upstream_id: 'u1' } });
    await admin.call('PUT', '/routes/13', { body: { uri: '/thirteen', upstream_id: 'u1', name: 'with upstream' } });
  });
  after(() => admin.close());

  test('without paging, items come in key order', async () => {
    const answer = await admin.call('GET', '/routes');
    assert.equal(answer.status, 200);
    assert.deepEqual(idsOf(answer.json), ['1', '10', '11', '12', '13', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal((answer.json as ListBody).total, 13);
  });

  test('page_size outside 10..500 is a 400 (JSON per DECISIONS.md)', async () => {
    for (const pageSize of ['2', '501']) {
      const answer = await admin.call('GET', `/routes?page=1&page_size=${pageSize}`);
      assert.deepEqual([answer.status, answer.json], [400, { error_msg: 'page_size must be between 10 and 500' }]);
    }
  });

  test('paging sorts by createdIndex and keeps the filtered total', async () => {
    const pages = await Promise.all(
      ['1', '2', '3'].map((page) => admin.call('GET', `/routes?page=${page}&page_size=10`)),
    );
    assert.deepEqual(idsOf(pages[0]?.json), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    assert.deepEqual(idsOf(pages[1]?.json), ['11', '12', '13']);
    assert.deepEqual(idsOf(pages[2]?.json), []);
    for (const page of pages) assert.equal((page.json as ListBody).total, 13);
  });

  test('page < 1 is page 1; paging needs both arguments', async () => {
    const negative = await admin.call('GET', '/routes?page=-1&page_size=10');
    assert.deepEqual(idsOf(negative.json).slice(0, 2), ['1', '2']);
    const onlySize = await admin.call('GET', '/routes?page_size=2');
    assert.equal(onlySize.status, 200, 'page_size alone does not page (and is not range-checked)');
    assert.equal(idsOf(onlySize.json).length, 13);
  });

  const FILTERS = [
    { query: 'label=env', ids: ['1', '2', '3'] },
    { query: 'label=production', ids: [] },
    { query: 'label=', ids: [] },
    { query: 'name=1', ids: ['1', '10', '11'] },
    { query: 'name=^1$', ids: ['1'] },
    { query: 'uri=multi', ids: ['7'] },
    { query: 'uri=^/r1', ids: ['1', '10', '11'] },
    { query: 'filter=upstream_id%3Du1', ids: ['12', '13'] },
    { query: 'filter=upstream_id%3Du1%26desc%3Dignored', ids: ['12', '13'] },
    { query: 'name=with&filter=upstream_id%3Du1', ids: ['13'] },
    { query: 'label=env&name=2', ids: ['2'] },
  ] as const;
  for (const { query, ids } of FILTERS) {
    test(`?${query} keeps ${ids.length === 0 ? 'nothing' : ids.join(',')}`, async () => {
      const answer = await admin.call('GET', `/routes?${query}`);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(idsOf(answer.json), ids);
      assert.equal((answer.json as ListBody).total, ids.length);
    });
  }

  test('filters apply before paging', async () => {
    const answer = await admin.call('GET', '/routes?name=1&page=1&page_size=10');
    assert.deepEqual(idsOf(answer.json), ['1', '10', '11']);
    assert.equal((answer.json as ListBody).total, 3);
  });

  test('a bad regex is a 400 naming the argument', async () => {
    const answer = await admin.call('GET', '/routes?name=(');
    assert.equal(answer.status, 400);
    assert.match((answer.json as { error_msg: string }).error_msg, /^invalid argument name: /);
  });

  test('trailing slashes are dropped', async () => {
    const answer = await admin.call('GET', '/routes/');
    assert.equal((answer.json as ListBody).total, 13);
    const single = await admin.call('GET', '/routes/1/');
    assert.equal((single.json as { key: string }).key, '/apisix/routes/1');
  });

  test('values that are not JSON objects (directory placeholders) are skipped', async () => {
    await admin.store.put('/apisix/routes/', 'init_dir');
    await admin.store.put('/apisix/routes/broken', 'not json');
    const answer = await admin.call('GET', '/routes');
    assert.equal((answer.json as ListBody).total, 13);
    const broken = await admin.call('GET', '/routes/broken');
    assert.deepEqual([broken.status, broken.json], [404, { message: 'Key not found' }]);
    await admin.store.delete('/apisix/routes/');
    await admin.store.delete('/apisix/routes/broken');
  });
});
