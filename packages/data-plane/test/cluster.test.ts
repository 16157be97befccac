import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { describe, test } from 'node:test';
import { startDataPlane } from '../src/index.js';
import {
  captureLogger,
  createTempStore,
  freePort,
  request,
  startEchoServer,
  testConfig,
  waitFor,
} from './support/harness.js';

describe('data plane with two cluster workers (architecture.md "Processes per role")', { timeout: 60_000 }, () => {
  test('a change in the source reaches both workers; a dead worker is replaced and gets the snapshot', async () => {
    const echo = await startEchoServer();
    const temp = await createTempStore();
    const statusPort = await freePort();
    const plane = await startDataPlane({
      config: testConfig(statusPort),
      source: temp.store,
      prefix: '/apisix',
      logger: captureLogger('warn').logger,
      workers: 2,
    });
    const status = `http://127.0.0.1:${statusPort}`;
    const proxy = `http://127.0.0.1:${plane.proxyAddresses[0]?.port}`;
    const readyAt = (revision: number) =>
      waitFor(
        async () => {
          const answer = await request(`${status}/status/ready`);
          return answer.status === 200 && answer.json<{ revision: number }>().revision >= revision ? true : undefined;
        },
        { what: `both workers at revision ${revision}` },
      );
    try {
      assert.equal(plane.proxyAddresses.length, 2, 'each worker reports its listener');
      await plane.ready;
      assert.equal(Object.keys(cluster.workers ?? {}).length, 2);

      const revision = await temp.put('/apisix/routes/1', {
        uri: '/hello',
        upstream: { nodes: { [`127.0.0.1:${echo.port}`]: 1 } },
      });
      await readyAt(revision);
      for (let index = 0; index < 6; index++)
        assert.equal((await request(`${proxy}/hello`)).status, 200, `request ${index} on a fresh connection`);

      const victim = Object.values(cluster.workers ?? {})[0];
      assert.ok(victim);
      const victimPid = victim.process.pid;
      victim.process.kill('SIGKILL');
      await waitFor(
        () => {
          const pids = Object.values(cluster.workers ?? {}).map((worker) => worker?.process.pid);
          return pids.length === 2 && !pids.includes(victimPid) ? true : undefined;
        },
        { what: 'a replacement worker' },
      );
      await readyAt(revision);
      const next = await temp.put('/apisix/routes/2', {
        uri: '/second',
        upstream: { nodes: { [`127.0.0.1:${echo.port}`]: 1 } },
      });
      await readyAt(next);
      for (let index = 0; index < 6; index++) {
        assert.equal((await request(`${proxy}/hello`)).status, 200);
        assert.equal((await request(`${proxy}/second`)).status, 200);
      }
    } finally {
      await plane.close();
      await temp.close();
      await echo.close();
    }
    assert.equal(Object.keys(cluster.workers ?? {}).length, 0, 'close stops every worker');
  });
});
