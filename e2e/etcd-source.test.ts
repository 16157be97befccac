import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, type TestContext, test } from 'node:test';
import { createEtcdStore } from '@switchboard/admin-plane';
import type { ChangeEvent, ConfigListener, ConfigSource, ConfigStore, StoredItem } from '@switchboard/core';
import { createEtcdConfigSource } from '@switchboard/data-plane';
import { Etcd3 } from 'etcd3';
import { type EtcdInstance, startEtcd } from './support/etcd.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

type Call =
  | { readonly kind: 'snapshot'; readonly items: readonly StoredItem[]; readonly revision: number }
  | { readonly kind: 'changes'; readonly events: readonly ChangeEvent[]; readonly revision: number }
  | { readonly kind: 'error'; readonly error: Error };

/** Records every listener call; `waitFor` resolves when a condition holds or fails at its deadline. */
function createRecorder() {
  const calls: Call[] = [];
  const waiters = new Set<() => void>();
  const record = (call: Call): void => {
    calls.push(call);
    for (const wake of [...waiters]) wake();
  };
  const listener: ConfigListener = {
    onSnapshot: (items, revision) => record({ kind: 'snapshot', items, revision }),
    onChanges: (events, revision) => record({ kind: 'changes', events, revision }),
    onError: (error) => record({ kind: 'error', error }),
  };
  const waitFor = (description: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${description}; calls: ${summarise(calls)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const of = <K extends Call['kind']>(kind: K): Array<Extract<Call, { kind: K }>> =>
    calls.filter((call): call is Extract<Call, { kind: K }> => call.kind === kind);
  const events = (): ChangeEvent[] => of('changes').flatMap((call) => [...call.events]);
  /** The state the listener would hold: the last snapshot with every later change applied. */
  const state = (): Map<string, string> => {
    const current = new Map<string, string>();
    for (const call of calls) {
      if (call.kind === 'snapshot') {
        current.clear();
        for (const item of call.items) current.set(item.key, item.value);
      } else if (call.kind === 'changes') {
        for (const event of call.events) {
          if (event.type === 'put') current.set(event.item.key, event.item.value);
          else current.delete(event.key);
        }
      }
    }
    return current;
  };
  return { listener, calls, waitFor, of, events, state };
}

function summarise(calls: readonly Call[]): string {
  return JSON.stringify(
    calls.map((call) =>
      call.kind === 'error'
        ? { error: call.error.message }
        : call.kind === 'snapshot'
          ? { snapshot: call.items.length, revision: call.revision }
          : { changes: call.events.map(revisionOf), revision: call.revision },
    ),
  );
}

function revisionOf(event: ChangeEvent): number {
  return event.type === 'put' ? event.item.modRevision : event.modRevision;
}

/** Every event revision after the first snapshot, strictly increasing: nothing repeated or reordered. */
function assertStrictlyIncreasing(events: readonly ChangeEvent[]): void {
  const revisions = events.map(revisionOf);
  for (let index = 1; index < revisions.length; index += 1) {
    assert.ok(
      (revisions[index] ?? 0) > (revisions[index - 1] ?? 0),
      `revisions not increasing: ${revisions.join(',')}`,
    );
  }
}

/** Keeps the source's warnings so a test can tell which recovery path ran. */
function createCapturingLogger() {
  const warnings: string[] = [];
  const logger = {
    info() {},
    warn(details: unknown, message?: string) {
      warnings.push(`${message ?? ''} ${JSON.stringify(details)}`);
    },
    error() {},
  };
  return { logger, warnings };
}

describe('etcd ConfigSource (data-plane side, admin-api.md §5.3–5.4, §5.7)', () => {
  let etcd: EtcdInstance;
  let writer: ConfigStore;

  const etcdPort = (): number => Number(new URL(etcd.clientUrl).port);
  /** A source closed when the test `context` ends, with its warnings captured. */
  const openSource = (context: TestContext, hosts: readonly string[]): { source: ConfigSource; warnings: string[] } => {
    const { logger, warnings } = createCapturingLogger();
    const source = createEtcdConfigSource({
      hosts,
      timeoutSeconds: 3,
      resyncDelaySeconds: 0.2,
      random: () => 0.5,
      logger,
    });
    context.after(() => source.close());
    return { source, warnings };
  };
  const openProxy = async (context: TestContext): Promise<TcpProxy> => {
    const proxy = await startTcpProxy('127.0.0.1', etcdPort());
    context.after(() => proxy.close());
    return proxy;
  };

  before(async () => {
    etcd = await startEtcd();
    writer = createEtcdStore({ hosts: [etcd.clientUrl], timeoutSeconds: 3 });
  });
  after(async () => {
    await writer?.close();
    await etcd?.close();
  });

  test('delivers the snapshot of the prefix, then changes in revision order', async (context) => {
    await writer.put('/snap/routes/1', '{"uri":"/a"}');
    await writer.put('/snap/routes/', 'init_dir');
    const outside = await writer.put('/elsewhere/x', '{}');
    const recorder = createRecorder();
    openSource(context, [etcd.clientUrl]).source.start('/snap/', recorder.listener);
    await recorder.waitFor('the snapshot', () => recorder.of('snapshot').length === 1);
    const [snapshot] = recorder.of('snapshot');
    assert.equal(snapshot?.revision, outside.revision);
    assert.deepEqual(
      snapshot.items.map((item) => [item.key, item.value]),
      [
        ['/snap/routes/', 'init_dir'],
        ['/snap/routes/1', '{"uri":"/a"}'],
      ],
      'placeholders are passed through; the plane ignores non-objects',
    );

    const put = await writer.put('/snap/routes/2', '{"uri":"/b"}');
    await writer.put('/elsewhere/y', '{}');
    await writer.delete('/snap/routes/1');
    await recorder.waitFor('two change events', () => recorder.events().length === 2);
    const events = recorder.events();
    assert.deepEqual(events[0], {
      type: 'put',
      item: { key: '/snap/routes/2', value: '{"uri":"/b"}', createRevision: put.revision, modRevision: put.revision },
    });
    assert.deepEqual(events[1], { type: 'delete', key: '/snap/routes/1', modRevision: put.revision + 2 });
    assert.equal(recorder.of('changes').at(-1)?.revision, put.revision + 2);
    assert.equal(recorder.of('error').length, 0);
  });

  test('etcd restart with the same data: onError, then resume from the last revision without a resync', async (context) => {
    await writer.put('/restart/routes/1', '{}');
    const recorder = createRecorder();
    openSource(context, [etcd.clientUrl]).source.start('/restart/', recorder.listener);
    await recorder.waitFor('the snapshot', () => recorder.of('snapshot').length === 1);
    await writer.put('/restart/routes/2', '{}');
    await recorder.waitFor('the first change', () => recorder.events().length === 1);

    await etcd.stop();
    await recorder.waitFor('onError while etcd is down', () => recorder.of('error').length > 0);
    await etcd.start();
    // Written after the restart, most likely before the source's retry reconnects.
    await writer.put('/restart/routes/3', '{}');
    await writer.delete('/restart/routes/1');
    await writer.put('/restart/routes/4', '{}');
    await recorder.waitFor('all changes after the restart', () => recorder.events().length === 4);

    assert.equal(recorder.of('snapshot').length, 1, 'same data: resumed, not re-read');
    assertStrictlyIncreasing(recorder.events());
    assert.deepEqual([...recorder.state().keys()].sort(), [
      '/restart/routes/2',
      '/restart/routes/3',
      '/restart/routes/4',
    ]);
  });

  test('a cut connection: onError, changes made meanwhile arrive once after restore', async (context) => {
    const proxy = await openProxy(context);
    const recorder = createRecorder();
    openSource(context, [proxy.url]).source.start('/outage/', recorder.listener);
    await recorder.waitFor('the snapshot', () => recorder.of('snapshot').length === 1);
    await writer.put('/outage/routes/1', '{"v":1}');
    await recorder.waitFor('the first change', () => recorder.events().length === 1);

    proxy.cut();
    await recorder.waitFor('onError after the cut', () => recorder.of('error').length > 0);
    await writer.put('/outage/routes/1', '{"v":2}');
    await writer.put('/outage/routes/2', '{"v":1}');
    await writer.deletePrefix('/outage/routes/1');
    proxy.restore();

    await recorder.waitFor('the changes made during the outage', () => recorder.events().length === 4);
    assert.equal(recorder.of('snapshot').length, 1);
    assertStrictlyIncreasing(recorder.events());
    assert.deepEqual([...recorder.state()], [['/outage/routes/2', '{"v":1}']]);
  });

  test('compaction of the revision being resumed: full re-read (onSnapshot), then watching again', async (context) => {
    const proxy = await openProxy(context);
    await writer.put('/compact/routes/1', '{"v":1}');
    const recorder = createRecorder();
    const { source, warnings } = openSource(context, [proxy.url]);
    source.start('/compact/', recorder.listener);
    await recorder.waitFor('the snapshot', () => recorder.of('snapshot').length === 1);

    proxy.cut();
    await recorder.waitFor('onError after the cut', () => recorder.of('error').length > 0);
    await writer.put('/compact/routes/2', '{"v":1}');
    await writer.delete('/compact/routes/1');
    const latest = await writer.put('/compact/routes/3', '{"v":1}');
    // etcd3 puts Compact on the KV service (etcdctl compact does the same call).
    const admin = new Etcd3({ hosts: etcd.clientUrl });
    try {
      await admin.kv.compact({ revision: latest.revision, physical: true });
    } finally {
      admin.close();
    }
    proxy.restore();

    await recorder.waitFor('a resync snapshot', () => recorder.of('snapshot').length === 2);
    const resync = recorder.of('snapshot')[1];
    assert.ok((resync?.revision ?? 0) >= latest.revision);
    assert.match(warnings.join('\n'), /revision compacted/, 'the resync was caused by the compaction');
    assert.deepEqual(
      resync?.items.map((item) => item.key),
      ['/compact/routes/2', '/compact/routes/3'],
    );

    const after = await writer.put('/compact/routes/4', '{}');
    await recorder.waitFor('a change after the resync', () =>
      recorder.events().some((event) => event.type === 'put' && event.item.key === '/compact/routes/4'),
    );
    assert.equal(recorder.of('changes').at(-1)?.revision, after.revision);
    assert.deepEqual([...recorder.state().keys()], ['/compact/routes/2', '/compact/routes/3', '/compact/routes/4']);
  });

  test('etcd unreachable at start: keeps retrying with onError, loads once it is reachable', async (context) => {
    await writer.put('/late/routes/1', '{}');
    const proxy = await openProxy(context);
    proxy.cut();
    const recorder = createRecorder();
    openSource(context, [proxy.url]).source.start('/late/', recorder.listener);
    await recorder.waitFor('two failed attempts', () => recorder.of('error').length >= 2);
    assert.equal(recorder.of('snapshot').length, 0);
    proxy.restore();
    await recorder.waitFor('the snapshot', () => recorder.of('snapshot').length === 1);
    assert.deepEqual(
      recorder.of('snapshot')[0]?.items.map((item) => item.key),
      ['/late/routes/1'],
    );
  });

  // Last: it wipes the shared etcd.
  test('etcd wiped (revision went backwards): full re-read with the new state', async (context) => {
    await writer.put('/wipe/routes/1', '{}');
    for (let index = 0; index < 5; index += 1) await writer.put('/wipe/routes/2', `{"n":${index}}`);
    const recorder = createRecorder();
    const { source, warnings } = openSource(context, [etcd.clientUrl]);
    source.start('/wipe/', recorder.listener);
    await recorder.waitFor('the snapshot', () => recorder.of('snapshot').length === 1);

    await etcd.stop();
    await rm(etcd.dataDir, { recursive: true, force: true });
    await etcd.start();
    await writer.put('/wipe/routes/9', '{"fresh":true}');

    await recorder.waitFor('a resync snapshot', () => recorder.of('snapshot').length === 2);
    const resync = recorder.of('snapshot')[1];
    assert.ok((resync?.revision ?? Infinity) < (recorder.of('snapshot')[0]?.revision ?? 0));
    assert.match(warnings.join('\n'), /revision went backwards/);
    await recorder.waitFor('the fresh state', () => [...recorder.state().keys()].join() === '/wipe/routes/9');
  });
});
