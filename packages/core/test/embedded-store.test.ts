import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isSwitchboardError } from '../src/errors.js';
import type { ChangeEvent, ConfigListener, StoredItem } from '../src/store/contract.js';
import type { EmbeddedStore, StoreClock, StoreTimer } from '../src/store/embedded-store.js';
import { createEmbeddedStore } from '../src/store/embedded-store.js';

/** A clock that only moves when the test says so; due timers fire on `advance`. */
function createManualClock(start = 1_700_000_000_000): StoreClock & { advance(ms: number): void } {
  let now = start;
  const timers = new Set<{ at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimer(callback, delayMs): StoreTimer {
      const timer = { at: now + delayMs, callback };
      timers.add(timer);
      return { cancel: () => timers.delete(timer) };
    },
    advance(ms) {
      now += ms;
      for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
        if (timer.at > now) continue;
        timers.delete(timer);
        timer.callback();
      }
    },
  };
}

/** Records listener calls and lets a test wait (with a deadline) until a condition holds. */
function createRecordingListener() {
  const calls: Array<
    | { kind: 'snapshot'; items: readonly StoredItem[]; revision: number }
    | { kind: 'changes'; events: readonly ChangeEvent[]; revision: number }
  > = [];
  const waiters = new Set<() => void>();
  const listener: ConfigListener = {
    onSnapshot(items, revision) {
      calls.push({ kind: 'snapshot', items, revision });
      for (const wake of waiters) wake();
    },
    onChanges(events, revision) {
      calls.push({ kind: 'changes', events, revision });
      for (const wake of waiters) wake();
    },
  };
  const waitFor = (condition: () => boolean, timeoutMs = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`condition not met; calls: ${JSON.stringify(calls)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const events = (): ChangeEvent[] => calls.flatMap((call) => (call.kind === 'changes' ? [...call.events] : []));
  return { listener, calls, waitFor, events };
}

const directories: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-embedded-'));
  directories.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(directories.map((dir) => rm(dir, { recursive: true, force: true })));
});

const silentLogger = {
  warnings: [] as string[],
  warn(_details: Record<string, unknown>, message: string) {
    this.warnings.push(message);
  },
};

async function openStore(dataDir: string, clock?: StoreClock): Promise<EmbeddedStore> {
  return createEmbeddedStore({ dataDir, logger: silentLogger, ...(clock === undefined ? {} : { clock }) });
}

describe('embedded store: etcd semantics', () => {
  it('bumps one global revision per write and keeps create/mod revisions per key', async () => {
    const store = await openStore(await freshDir());
    const first = await store.put('/apisix/routes/1', '{"a":1}');
    const second = await store.put('/apisix/routes/2', '{"b":2}');
    const replaced = await store.put('/apisix/routes/1', '{"a":3}');
    assert.deepEqual([first.revision, second.revision, replaced.revision], [1, 2, 3]);
    assert.deepEqual(await store.get('/apisix/routes/1'), {
      key: '/apisix/routes/1',
      value: '{"a":3}',
      createRevision: 1,
      modRevision: 3,
    });
    assert.equal(await store.get('/apisix/routes/404'), undefined);
    await store.close();
  });

  it('reports created only when the key did not exist', async () => {
    const store = await openStore(await freshDir());
    assert.equal((await store.put('/apisix/consumers/jack', '{}')).created, true);
    assert.equal((await store.put('/apisix/consumers/jack', '{}')).created, false);
    await store.delete('/apisix/consumers/jack');
    assert.equal((await store.put('/apisix/consumers/jack', '{}')).created, true);
    await store.close();
  });

  it('lists a prefix in byte order with the current revision', async () => {
    const store = await openStore(await freshDir());
    for (const id of ['2', '10', '1']) await store.put(`/apisix/routes/${id}`, `{"id":"${id}"}`);
    await store.put('/apisix/services/1', '{}');
    const listed = await store.list('/apisix/routes/');
    assert.deepEqual(
      listed.items.map((item) => item.key),
      ['/apisix/routes/1', '/apisix/routes/10', '/apisix/routes/2'],
    );
    assert.equal(listed.revision, 4);
    assert.deepEqual(await store.list('/apisix/upstreams/'), { items: [], revision: 4 });
    await store.close();
  });

  it('compare-and-swaps on the mod revision', async () => {
    const store = await openStore(await freshDir());
    const { item } = await store.put('/apisix/routes/1', '{"v":1}');
    assert.equal(await store.putIfUnchanged('/apisix/routes/1', '{"v":2}', item.modRevision), true);
    assert.equal(await store.putIfUnchanged('/apisix/routes/1', '{"v":3}', item.modRevision), false);
    assert.equal((await store.get('/apisix/routes/1'))?.value, '{"v":2}');
    assert.equal(await store.putIfUnchanged('/apisix/routes/9', '{}', 5), false);
    assert.equal(await store.get('/apisix/routes/9'), undefined);
    await store.close();
  });

  it('deletes one key or a prefix, each deletion at its own revision', async () => {
    const store = await openStore(await freshDir());
    await store.put('/apisix/consumers/jack', '{}');
    await store.put('/apisix/consumers/jack/credentials/a', '{}');
    await store.put('/apisix/consumers/jack/credentials/b', '{}');
    const recording = createRecordingListener();
    store.start('/apisix/', recording.listener);
    assert.equal(await store.deletePrefix('/apisix/consumers/jack/credentials/'), 2);
    assert.equal(await store.delete('/apisix/consumers/jack'), 1);
    assert.equal(await store.delete('/apisix/consumers/jack'), 0);
    assert.equal((await store.list('/apisix/')).revision, 6, 'a delete of nothing does not bump the revision');
    await recording.waitFor(() => recording.events().length === 3);
    assert.deepEqual(recording.events(), [
      { type: 'delete', key: '/apisix/consumers/jack/credentials/a', modRevision: 4 },
      { type: 'delete', key: '/apisix/consumers/jack/credentials/b', modRevision: 5 },
      { type: 'delete', key: '/apisix/consumers/jack', modRevision: 6 },
    ]);
    await store.close();
  });

  it('expires a ttl key on the injected clock with a delete event', async () => {
    const clock = createManualClock();
    const store = await openStore(await freshDir(), clock);
    const recording = createRecordingListener();
    store.start('/apisix/routes/', recording.listener);
    await store.put('/apisix/routes/tmp', '{}', { ttlSeconds: 10 });
    await store.put('/apisix/routes/keep', '{}');
    clock.advance(9_999);
    assert.notEqual(await store.get('/apisix/routes/tmp'), undefined);
    clock.advance(1);
    await recording.waitFor(() => recording.events().some((event) => event.type === 'delete'));
    assert.equal(await store.get('/apisix/routes/tmp'), undefined);
    assert.notEqual(await store.get('/apisix/routes/keep'), undefined);
    assert.deepEqual(recording.events().at(-1), { type: 'delete', key: '/apisix/routes/tmp', modRevision: 3 });
    await store.close();
  });

  it('drops the lease when a ttl key is rewritten without ttl', async () => {
    const clock = createManualClock();
    const store = await openStore(await freshDir(), clock);
    await store.put('/apisix/routes/1', '{}', { ttlSeconds: 1 });
    await store.put('/apisix/routes/1', '{"kept":true}');
    clock.advance(5_000);
    await store.put('/apisix/routes/2', '{}'); // queued behind any expiry the clock could have caused
    assert.equal((await store.get('/apisix/routes/1'))?.value, '{"kept":true}');
    await store.close();
  });

  it('delivers the snapshot first, then changes in revision order, never inside put', async () => {
    const store = await openStore(await freshDir());
    await store.put('/apisix/routes/1', '{}');
    await store.put('/other/x', '{}');
    const recording = createRecordingListener();
    store.start('/apisix/', recording.listener);
    const pending = [
      store.put('/apisix/routes/2', '{}'),
      store.put('/other/y', '{}'),
      store.put('/apisix/routes/1', '{"v":2}'),
    ];
    assert.equal(recording.calls.length, 0, 'no listener call happens synchronously');
    await Promise.all(pending);
    await recording.waitFor(() => recording.events().length === 2);
    const [snapshot, ...changes] = recording.calls;
    assert.equal(snapshot?.kind, 'snapshot');
    assert.equal(snapshot.revision, 2);
    assert.deepEqual(
      snapshot.items.map((item) => item.key),
      ['/apisix/routes/1'],
    );
    assert.deepEqual(
      changes.map((call) => call.revision),
      [3, 5],
    );
    assert.deepEqual(
      recording.events().map((event) => (event.type === 'put' ? [event.item.key, event.item.modRevision] : [])),
      [
        ['/apisix/routes/2', 3],
        ['/apisix/routes/1', 5],
      ],
    );
    await store.close();
  });

  it('serialises concurrent CAS writers so exactly one wins', async () => {
    const store = await openStore(await freshDir());
    const { item } = await store.put('/apisix/routes/1', '{"v":0}');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        store.putIfUnchanged('/apisix/routes/1', `{"v":${index + 1}}`, item.modRevision),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    await store.close();
  });
});

describe('embedded store: persistence', () => {
  it('creates a missing data dir and keeps data and revisions across reopen', async () => {
    const dataDir = join(await freshDir(), 'nested', 'data');
    const clock = createManualClock();
    const store = await openStore(dataDir, clock);
    await store.put('/apisix/routes/1', '{"v":1}');
    await store.put('/apisix/routes/2', '{"v":2}', { ttlSeconds: 60 });
    await store.put('/apisix/routes/1', '{"v":3}');
    await store.put('/apisix/gen_id', '1');
    await store.delete('/apisix/gen_id');
    await store.close();

    const reopened = await openStore(dataDir, clock);
    assert.deepEqual(await reopened.list('/apisix/'), {
      revision: 5,
      items: [
        { key: '/apisix/routes/1', value: '{"v":3}', createRevision: 1, modRevision: 3 },
        { key: '/apisix/routes/2', value: '{"v":2}', createRevision: 2, modRevision: 2 },
      ],
    });
    assert.equal((await reopened.put('/apisix/routes/3', '{}')).revision, 6);
    clock.advance(60_000);
    await reopened.put('/apisix/routes/4', '{}');
    // The lease survived the reopen: the ttl key expires at its original deadline.
    const recording = createRecordingListener();
    reopened.start('/apisix/routes/2', recording.listener);
    await recording.waitFor(() => recording.calls.length > 0);
    const firstCall = recording.calls[0];
    assert.equal(firstCall?.kind, 'snapshot');
    assert.deepEqual(firstCall.items, []);
    await reopened.close();

    const third = await openStore(dataDir);
    assert.equal((await third.list('/apisix/')).revision, 8);
    await third.close();
  });

  it('drops a torn last log line with a warning and keeps everything before it', async () => {
    const dataDir = await freshDir();
    const store = await openStore(dataDir);
    await store.put('/apisix/routes/1', '{}');
    await store.close();
    const reopenedOnce = await openStore(dataDir); // compacts: the log is empty again
    await reopenedOnce.put('/apisix/routes/2', '{}');
    await reopenedOnce.close();
    await appendFile(join(dataDir, 'log.jsonl'), '{"rev":3,"op":"put","key":"/apisix/rou');
    const before = silentLogger.warnings.length;

    const reopened = await openStore(dataDir);
    assert.deepEqual(
      (await reopened.list('/apisix/routes/')).items.map((item) => item.key),
      ['/apisix/routes/1', '/apisix/routes/2'],
    );
    assert.equal((await reopened.put('/apisix/routes/3', '{}')).revision, 3);
    assert.match(silentLogger.warnings.slice(before).join('\n'), /torn last log line/);
    await reopened.close();
  });

  const corruptCases = [
    {
      name: 'garbage in the middle of the log',
      file: 'log.jsonl',
      text: 'not json\n{"rev":2,"op":"delete","key":"/k"}\n',
      line: 1,
    },
    { name: 'a revision gap', file: 'log.jsonl', text: '{"rev":5,"op":"delete","key":"/k"}\n', line: 1 },
    {
      name: 'a repeated revision',
      file: 'log.jsonl',
      text: '{"rev":1,"op":"put","key":"/k","value":"{}","createRevision":1}\n{"rev":1,"op":"delete","key":"/k"}\n',
      line: 2,
    },
    {
      name: 'a broken snapshot',
      file: 'snapshot.jsonl',
      text: '{"format":"switchboard-embedded-snapshot/1","revision":1}\n{"key":1}\n',
      line: 2,
    },
  ];
  for (const corruptCase of corruptCases) {
    it(`refuses to open with ${corruptCase.name}: SB_ERR_STORE_CORRUPT naming file and line`, async () => {
      const dataDir = await freshDir();
      const store = await openStore(dataDir);
      await store.put('/k', '{}');
      await store.close();
      const path = join(dataDir, corruptCase.file);
      await writeFile(path, corruptCase.text);
      await assert.rejects(openStore(dataDir), (error: unknown) => {
        assert.ok(isSwitchboardError(error, 'SB_ERR_STORE_CORRUPT'), String(error));
        assert.ok(error.message.includes(`${corruptCase.file} line ${corruptCase.line}`), error.message);
        return true;
      });
      assert.ok((await readFile(path, 'utf8')).length > 0, 'a corrupt file is left for inspection');
    });
  }

  it('rejects calls after close with SB_ERR_STORE_UNAVAILABLE', async () => {
    const store = await openStore(await freshDir());
    await store.close();
    await assert.rejects(store.put('/k', '{}'), (error: unknown) =>
      isSwitchboardError(error, 'SB_ERR_STORE_UNAVAILABLE'),
    );
    await assert.rejects(store.get('/k'), (error: unknown) => isSwitchboardError(error, 'SB_ERR_STORE_UNAVAILABLE'));
  });
});
