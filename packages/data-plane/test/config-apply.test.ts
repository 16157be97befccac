import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChangeEvent, StoredItem } from '@switchboard/core';
import { type ConfigState, createConfigState } from '../src/config/config-state.js';
import type { RouteRuntime } from '../src/config/runtime-config.js';
import { keyAuthPlugin } from '../src/plugins/key-auth.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import type { RuntimePlugin } from '../src/plugins/runtime-plugin.js';
import { RequestVars } from '../src/router/request-vars.js';
import { NEEDS_BODY } from '../src/router/verdict.js';
import { createDispatcherRegistry } from '../src/upstream/dispatchers.js';
import { type CapturedLogger, captureLogger, defaultConfig } from './support/harness.js';

const UPSTREAM = { nodes: { '127.0.0.1:1980': 1 } };

/** A key-auth that counts prepare/dispose, to see which routes were re-prepared. */
function countingKeyAuth(): { plugin: RuntimePlugin; counts: { prepare: number; dispose: number; holders: string[] } } {
  const counts = { prepare: 0, dispose: 0, holders: [] as string[] };
  const plugin: RuntimePlugin = {
    name: 'key-auth',
    prepare(conf, scope) {
      counts.prepare++;
      counts.holders.push(scope.holderKey);
      return keyAuthPlugin.prepare(conf as never, scope);
    },
    rewrite: (ctx, prepared) => keyAuthPlugin.rewrite?.(ctx, prepared as never),
    dispose() {
      counts.dispose++;
    },
  };
  return { plugin, counts };
}

interface Harness {
  readonly state: ConfigState;
  readonly log: CapturedLogger;
  readonly counts: { prepare: number; dispose: number; holders: string[] };
  snapshot(entries: Record<string, unknown>, revision: number): void;
  put(key: string, value: unknown, revision: number): void;
  remove(key: string, revision: number): void;
  route(path: string, host?: string): RouteRuntime | undefined;
  warnings(): Record<string, unknown>[];
  close(): Promise<void>;
}

function harness(): Harness {
  const log = captureLogger();
  const dispatchers = createDispatcherRegistry();
  const { plugin, counts } = countingKeyAuth();
  const state = createConfigState({
    prefix: '/apisix',
    logger: log.logger,
    registry: createRuntimePluginRegistry({ random: () => 0, now: () => 0 }, [plugin]),
    dispatchers,
    random: () => 0,
    dataEncryption: defaultConfig().apisix.data_encryption,
  });
  const stored = (key: string, value: unknown, revision: number): StoredItem => ({
    key,
    value: typeof value === 'string' ? value : JSON.stringify(value),
    createRevision: revision,
    modRevision: revision,
  });
  return {
    state,
    log,
    counts,
    snapshot(entries, revision) {
      state.listener.onSnapshot(
        Object.entries(entries).map(([key, value]) => stored(key, value, revision)),
        revision,
      );
    },
    put(key, value, revision) {
      const events: ChangeEvent[] = [{ type: 'put', item: stored(key, value, revision) }];
      state.listener.onChanges(events, revision);
    },
    remove(key, revision) {
      state.listener.onChanges([{ type: 'delete', key, modRevision: revision }], revision);
    },
    route(path, host = 'gateway.local') {
      const req = { method: 'GET', url: path, headers: { host }, socket: { remoteAddress: '127.0.0.1' } };
      const vars = new RequestVars(req as never, path);
      const matched = state.current().router.match(path, vars, (candidate) => candidate.filter(vars));
      return matched === NEEDS_BODY ? undefined : matched;
    },
    warnings: () => log.lines.filter((line) => (line.level as number) >= 40),
    async close() {
      state.close();
      await dispatchers.close();
    },
  };
}

describe('config apply (admin-api.md §5.3, §5.6)', () => {
  test('an invalid update is logged with its key and the previous value keeps serving', async () => {
    const h = harness();
    h.snapshot({ '/apisix/routes/1': { uri: '/one', upstream: UPSTREAM } }, 5);
    h.put('/apisix/routes/1', { uri: '/one', methods: ['FETCH'], upstream: UPSTREAM }, 6);
    assert.equal(h.route('/one')?.route.key, '/apisix/routes/1');
    assert.deepEqual(h.route('/one')?.route.methods, undefined, 'the old value, without the bad methods');
    const warning = h.warnings().find((line) => line.key === '/apisix/routes/1');
    assert.ok(warning, 'the refused key is logged');
    assert.match(String(warning.reason), /methods/);
    assert.equal(h.state.revision(), 6, 'the revision advances even for a refused item');
    await h.close();
  });

  test('an invalid item in a snapshot is skipped; the valid ones load', async () => {
    const h = harness();
    h.snapshot(
      { '/apisix/routes/bad': { upstream: UPSTREAM }, '/apisix/routes/good': { uri: '/good', upstream: UPSTREAM } },
      3,
    );
    assert.equal(h.route('/good')?.route.id, 'good');
    assert.deepEqual(
      h.warnings().map((line) => line.key),
      ['/apisix/routes/bad'],
    );
    await h.close();
  });

  test('deletes remove routes; a later put of the same key inserts it again', async () => {
    const h = harness();
    h.snapshot({ '/apisix/routes/1': { uri: '/one', upstream: UPSTREAM } }, 2);
    h.remove('/apisix/routes/1', 3);
    assert.equal(h.route('/one'), undefined);
    h.put('/apisix/routes/1', { uri: '/one-again', upstream: UPSTREAM }, 4);
    assert.equal(h.route('/one-again')?.route.id, '1');
    await h.close();
  });

  test('values that are not JSON objects (placeholders, arrays) are ignored silently', async () => {
    const h = harness();
    h.snapshot(
      {
        '/apisix/routes/': 'init_dir',
        '/apisix/routes/arr': [1, 2],
        '/apisix/routes/1': { uri: '/one', upstream: UPSTREAM },
      },
      2,
    );
    assert.equal(h.route('/one')?.route.id, '1');
    assert.deepEqual(h.warnings(), []);
    await h.close();
  });

  test('other directories (ssls, plugins, gen_id) are not loaded', async () => {
    const h = harness();
    h.snapshot(
      { '/apisix/ssls/1': { cert: 'x' }, '/apisix/plugins': [{ name: 'key-auth' }], '/apisix/gen_id': '3' },
      2,
    );
    assert.deepEqual(h.warnings(), []);
    await h.close();
  });

  test('value.id is the key suffix, whatever the stored id', async () => {
    const h = harness();
    h.snapshot({ '/apisix/routes/by-key': { id: 'other', uri: '/x', upstream: UPSTREAM } }, 2);
    assert.equal(h.route('/x')?.route.id, 'by-key');
    await h.close();
  });

  test('unknown plugins are skipped with a warning and the route still loads (§5.6)', async () => {
    const h = harness();
    h.snapshot({ '/apisix/routes/1': { uri: '/x', plugins: { 'no-such-plugin': {} }, upstream: UPSTREAM } }, 2);
    assert.equal(h.route('/x')?.route.id, '1');
    assert.deepEqual(
      h.route('/x')?.chain.plugins.map((plugin) => plugin.name),
      [],
    );
    const warning = h.warnings().find((line) => line.key === '/apisix/routes/1');
    assert.deepEqual(warning?.plugins, ['no-such-plugin']);
    await h.close();
  });

  test('events at or below the snapshot revision are already in it and ignored', async () => {
    const h = harness();
    h.snapshot({ '/apisix/routes/1': { uri: '/new', upstream: UPSTREAM } }, 10);
    h.put('/apisix/routes/1', { uri: '/old', upstream: UPSTREAM }, 9);
    assert.ok(h.route('/new'));
    assert.equal(h.route('/old'), undefined);
    await h.close();
  });

  test('service merge: route plugins override by name, the route upstream wins, service deletion 404s (§4)', async () => {
    const h = harness();
    h.snapshot(
      {
        '/apisix/services/s': {
          plugins: { 'key-auth': { header: 'from-service' } },
          upstream: { nodes: { '127.0.0.1:1': 1 } },
        },
        '/apisix/routes/inherits': { uri: '/inherits', service_id: 's' },
        '/apisix/routes/overrides': {
          uri: '/overrides',
          service_id: 's',
          plugins: { 'key-auth': { header: 'from-route' } },
          upstream: UPSTREAM,
        },
      },
      2,
    );
    const inherits = h.route('/inherits');
    assert.deepEqual(
      inherits?.route.plugins.map((entry) => [entry.name, entry.conf.header, entry.holderKey]),
      [['key-auth', 'from-service', '/apisix/services/s']],
    );
    assert.equal(inherits?.route.upstream.kind, 'inline');
    assert.equal(inherits?.route.upstream.kind === 'inline' && inherits.route.upstream.holderKey, '/apisix/services/s');
    const overrides = h.route('/overrides');
    assert.deepEqual(
      overrides?.route.plugins.map((entry) => [entry.name, entry.conf.header, entry.holderKey]),
      [['key-auth', 'from-route', '/apisix/routes/overrides']],
    );
    assert.equal(
      overrides?.route.upstream.kind === 'inline' && overrides.route.upstream.holderKey,
      '/apisix/routes/overrides',
    );

    h.remove('/apisix/services/s', 3);
    assert.equal(h.route('/inherits')?.route.serviceMissing, true, 'still matched, answered 404 by the pipeline');
    await h.close();
  });

  test('prepared plugins are reused while the route and its service are unchanged, and disposed when dropped', async () => {
    const h = harness();
    h.snapshot(
      {
        '/apisix/services/s': { plugins: { 'key-auth': {} } },
        '/apisix/routes/a': { uri: '/a', plugins: { 'key-auth': {} }, upstream: UPSTREAM },
        '/apisix/routes/b': { uri: '/b', service_id: 's', upstream: UPSTREAM },
      },
      2,
    );
    assert.deepEqual([h.counts.prepare, h.counts.dispose], [2, 0]);
    h.put('/apisix/routes/c', { uri: '/c', upstream: UPSTREAM }, 3);
    assert.deepEqual([h.counts.prepare, h.counts.dispose], [2, 0], 'an unrelated change re-prepares nothing');
    h.put('/apisix/routes/a', { uri: '/a', plugins: { 'key-auth': { header: 'x' } }, upstream: UPSTREAM }, 4);
    assert.deepEqual(
      [h.counts.prepare, h.counts.dispose],
      [3, 1],
      'a changed route is re-prepared, the old one disposed',
    );
    h.put('/apisix/services/s', { plugins: { 'key-auth': { header: 'y' } } }, 5);
    assert.deepEqual([h.counts.prepare, h.counts.dispose], [4, 2], "a changed service re-prepares its routes' plugins");
    h.remove('/apisix/routes/b', 6);
    assert.deepEqual([h.counts.prepare, h.counts.dispose], [4, 3], 'a deleted route disposes its plugins');
    assert.equal(
      h.counts.holders.at(-1),
      '/apisix/services/s',
      'a service plugin is prepared with the service as holder',
    );
    await h.close();
  });

  test('the auth index: inline keys, credentials (parent consumer + credential id), decryption, orphans', async () => {
    const h = harness();
    h.snapshot(
      {
        // `auth-one` encrypted with the default keyring (admin-api.md §3.7 test vector).
        '/apisix/consumers/jack': {
          username: 'jack',
          labels: { custom_id: 'j-1' },
          plugins: { 'key-auth': { key: '4y+JvURBE6ZwRbbgaryrhg==' } },
        },
        '/apisix/consumers/jack/credentials/c1': { plugins: { 'key-auth': { key: 'cred-key' } } },
        '/apisix/consumers/ghost/credentials/c2': { plugins: { 'key-auth': { key: 'orphan-key' } } },
        '/apisix/consumers/env': { username: 'env', plugins: { 'key-auth': { key: '$env://SECRET' } } },
      },
      2,
    );
    const consumers = h.state.current().consumers;
    assert.deepEqual(consumers.findByCredential('key-auth', 'auth-one'), {
      username: 'jack',
      plugins: { 'key-auth': { key: 'auth-one' } },
      key: '/apisix/consumers/jack',
      labels: { custom_id: 'j-1' },
    });
    const viaCredential = consumers.findByCredential('key-auth', 'cred-key');
    assert.equal(viaCredential?.username, 'jack');
    assert.equal(viaCredential?.credentialId, 'c1');
    assert.equal(viaCredential?.key, '/apisix/consumers/jack');
    assert.equal(consumers.findByCredential('key-auth', 'orphan-key'), undefined);
    assert.ok(h.log.lines.some((line) => line.key === '/apisix/consumers/ghost/credentials/c2' && line.level === 50));
    assert.equal(
      consumers.findByCredential('key-auth', '$env://SECRET'),
      undefined,
      'unresolved references fail closed',
    );
    assert.equal(consumers.findByUsername('env')?.username, 'env');

    h.remove('/apisix/consumers/jack/credentials/c1', 3);
    assert.equal(h.state.current().consumers.findByCredential('key-auth', 'cred-key'), undefined);
    await h.close();
  });
});
