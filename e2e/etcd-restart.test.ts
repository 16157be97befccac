import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { httpRequest } from './support/http.js';
import { startLoadLoop } from './support/load-loop.js';
import { pollUntil } from './support/poll.js';

/**
 * etcd goes away and comes back while traffic flows (admin-api.md §5.4, §5.7): the data planes keep
 * serving the last config without a single failed request, and catch up with changes made after
 * etcd returned.
 */

/** Requests that must succeed during each phase, so the outage spans real traffic. */
const REQUESTS_PER_PHASE = 200;

async function untilServed(proxyUrls: readonly string[], path: string): Promise<void> {
  await Promise.all(
    proxyUrls.map((proxyUrl) =>
      pollUntil(async () => (await httpRequest(`${proxyUrl}${path}`, { body: CHAT_BODY })).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 50,
        description: `${path} on ${proxyUrl}`,
      }),
    ),
  );
}

describe('etcd restart while traffic flows', () => {
  let cluster: Cluster;
  let mock: MockLlm;
  before(async () => {
    // A short resync delay keeps the reconnect inside the test budget; the behaviour is the same.
    [cluster, mock] = await Promise.all([
      startCluster({ etcd: { resync_delay: 1 } }),
      startMockLlm({ name: 'steady', record: false }),
    ]);
    const put = await cluster.admin.put(
      '/routes/steady',
      aiRoute({ uri: '/steady', instances: [aiInstance({ name: 'steady', endpoint: mock.url })] }),
    );
    assert.equal(put.status, 201, put.text);
    await untilServed(cluster.proxyUrls, '/steady');
  });
  after(async () => {
    await Promise.all([cluster?.close(), mock?.close()]);
  });

  test('no request fails while etcd is stopped and restarted; a later route reaches both replicas', {
    timeout: 120_000,
  }, async (t) => {
    const load = startLoadLoop({ urls: cluster.proxyUrls, path: '/steady', body: CHAT_BODY, concurrency: 2 });
    try {
      await load.untilOk(REQUESTS_PER_PHASE);
      await cluster.etcd.stop();
      // The outage is real for clients of etcd: the Admin API reports it (§5.7) while traffic flows.
      await pollUntil(async () => (await cluster.admin.get('/routes')).status === 503, {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: 'the Admin API to report etcd unavailable',
      });
      await load.untilOk(load.stats().ok + REQUESTS_PER_PHASE);
      await cluster.etcd.start();
      await load.untilOk(load.stats().ok + REQUESTS_PER_PHASE);

      // The control plane reconnects on its own; until then a write may answer 503.
      const route = aiRoute({ uri: '/after-restart', instances: [aiInstance({ name: 'steady', endpoint: mock.url })] });
      await pollUntil(
        async () => {
          const response = await cluster.admin.put('/routes/after-restart', route);
          return response.status === 201 || response.status === 200;
        },
        { timeoutMs: 30_000, intervalMs: 200, description: 'the Admin API to write after the restart' },
      );
      await untilServed(cluster.proxyUrls, '/after-restart');
    } finally {
      const stats = await load.stop();
      t.diagnostic(`${stats.ok} requests succeeded, ${stats.failed} failed`);
      assert.equal(stats.failed, 0, `failed requests: ${stats.failures.join('\n')}`);
      assert.ok(stats.ok >= 3 * REQUESTS_PER_PHASE);
    }
  });
});
