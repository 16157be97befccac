import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigListener, ConfigSource, StoredItem } from '@switchboard/core';
import { startDataPlane } from '../src/index.js';
import { captureLogger, createTempStore, freePort, request, testConfig, waitFor } from './support/harness.js';

/** A ConfigSource whose first snapshot the test releases, to observe the not-yet-loaded state. */
function heldSource(): ConfigSource & { release(items: readonly StoredItem[], revision: number): void } {
  let listener: ConfigListener | undefined;
  return {
    start(_prefix, started) {
      listener = started;
    },
    async close() {},
    release(items, revision) {
      assert.ok(listener, 'the data plane started the source');
      listener.onSnapshot(items, revision);
    },
  };
}

describe('status server and readiness, in-process (admin-api.md §5.7)', { timeout: 30_000 }, () => {
  test('503 until the first full load, then 200 with the revision; the proxy 404s meanwhile', async () => {
    const statusPort = await freePort();
    const source = heldSource();
    const plane = await startDataPlane({
      config: testConfig(statusPort),
      source,
      prefix: '/apisix',
      logger: captureLogger().logger,
      workers: 0,
    });
    const status = `http://127.0.0.1:${statusPort}`;
    const proxy = `http://127.0.0.1:${plane.proxyAddresses[0]?.port}`;
    try {
      assert.equal(plane.statusAddress?.port, statusPort);
      const live = await request(`${status}/status`);
      assert.equal(live.status, 200);
      assert.deepEqual(live.json(), { status: 'ok', revision: 0 });
      const notReady = await request(`${status}/status/ready`);
      assert.equal(notReady.status, 503);
      assert.equal(notReady.text, '{"status":"error","error":"worker id: 0 has not received configuration"}\n');
      assert.equal((await request(`${proxy}/anything`)).status, 404);

      source.release(
        [
          {
            key: '/apisix/routes/1',
            value: JSON.stringify({ uri: '/x', plugins: {} }),
            createRevision: 7,
            modRevision: 7,
          },
        ],
        7,
      );
      await plane.ready;
      const ready = await request(`${status}/status/ready`);
      assert.equal(ready.status, 200);
      assert.equal(ready.text, '{"status":"ok","revision":7}\n');
      assert.equal((await request(`${proxy}/x`)).status, 503, 'the route now matches (it has no upstream)');
    } finally {
      await plane.close();
    }
  });

  test('the revision follows changes applied from the embedded store', async () => {
    const statusPort = await freePort();
    const temp = await createTempStore();
    const plane = await startDataPlane({
      config: testConfig(statusPort),
      source: temp.store,
      prefix: '/apisix',
      logger: captureLogger().logger,
      workers: 0,
    });
    try {
      await plane.ready;
      const revision = await temp.put('/apisix/routes/1', { uri: '/x', plugins: {} });
      const body = await waitFor(
        async () => {
          const answer = await request(`http://127.0.0.1:${statusPort}/status/ready`);
          const json = answer.json<{ revision: number }>();
          return answer.status === 200 && json.revision >= revision ? json : undefined;
        },
        { what: 'the status revision to reach the write' },
      );
      assert.equal(body.revision, revision);
    } finally {
      await plane.close();
      await temp.close();
    }
  });

  test('apisix.status.port 0 disables the status server', async () => {
    const temp = await createTempStore();
    const plane = await startDataPlane({
      config: testConfig(0),
      source: temp.store,
      prefix: '/apisix',
      logger: captureLogger().logger,
      workers: 0,
    });
    try {
      assert.equal(plane.statusAddress, undefined);
      await plane.ready;
    } finally {
      await plane.close();
      await temp.close();
    }
  });
});
