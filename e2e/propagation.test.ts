import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';

/**
 * A change made through the control plane reaches every data-plane replica (admin-api.md §9):
 * each replica is polled with a deadline, never assumed to be instant.
 */

const PROPAGATION_DEADLINE_MS = 10_000;

/** Resolves once every replica answers `path` the way `accept` wants. */
async function untilEveryReplica(
  proxyUrls: readonly string[],
  path: string,
  accept: (status: number, mockName: string) => boolean,
  description: string,
): Promise<void> {
  await Promise.all(
    proxyUrls.map((proxyUrl) =>
      pollUntil(
        async () => {
          const response = await httpRequest(`${proxyUrl}${path}`, { body: CHAT_BODY });
          return accept(response.status, headerOf(response, 'x-mock-name'));
        },
        { timeoutMs: PROPAGATION_DEADLINE_MS, intervalMs: 20, description: `${description} on ${proxyUrl}` },
      ),
    ),
  );
}

describe('config propagation to two data-plane replicas', () => {
  let cluster: Cluster;
  let mockA: MockLlm;
  let mockB: MockLlm;
  before(async () => {
    [cluster, mockA, mockB] = await Promise.all([
      startCluster(),
      startMockLlm({ name: 'a' }),
      startMockLlm({ name: 'b' }),
    ]);
  });
  after(async () => {
    await Promise.all([cluster?.close(), mockA?.close(), mockB?.close()]);
  });

  test('both replicas answer 404 Route Not Found before any route exists (§6.5)', async () => {
    for (const proxyUrl of cluster.proxyUrls) {
      const response = await httpRequest(`${proxyUrl}/chat`, { body: CHAT_BODY });
      assert.equal(response.status, 404);
      assert.deepEqual(response.json, { error_msg: '404 Route Not Found' });
    }
  });

  test('PUT, PATCH and DELETE of a route reach both replicas', async () => {
    const route = aiRoute({ uri: '/chat', instances: [aiInstance({ name: 'a', endpoint: mockA.url })] });
    const put = await cluster.admin.put('/routes/prop', route);
    assert.equal(put.status, 201, put.text);
    await untilEveryReplica(
      cluster.proxyUrls,
      '/chat',
      (status, name) => status === 200 && name === 'a',
      'the new route',
    );

    // A whole-body PATCH swaps the instance: every replica must switch to mock b.
    const patched = await cluster.admin.patch('/routes/prop', {
      plugins: { 'ai-proxy-multi': { instances: [aiInstance({ name: 'b', endpoint: mockB.url })] } },
    });
    assert.equal(patched.status, 200, patched.text);
    await untilEveryReplica(
      cluster.proxyUrls,
      '/chat',
      (status, name) => status === 200 && name === 'b',
      'the patched instance',
    );

    // A sub-path PATCH moves the route: the old path stops matching, the new one serves.
    const moved = await cluster.admin.patch('/routes/prop/uri', '"/moved"');
    assert.equal(moved.status, 200, moved.text);
    await untilEveryReplica(cluster.proxyUrls, '/moved', (status) => status === 200, 'the moved uri');
    await untilEveryReplica(cluster.proxyUrls, '/chat', (status) => status === 404, 'the old uri gone');

    const deleted = await cluster.admin.delete('/routes/prop');
    assert.equal(deleted.status, 200, deleted.text);
    await untilEveryReplica(cluster.proxyUrls, '/moved', (status) => status === 404, 'the deleted route gone');
  });

  test('the status server reports readiness and the applied revision', async () => {
    for (const node of cluster.dataPlanes) {
      const response = await httpRequest(`${node.statusUrl}/status/ready`);
      assert.equal(response.status, 200);
      const body = response.json as { status?: unknown; revision?: unknown };
      assert.equal(body.status, 'ok');
      assert.equal(typeof body.revision, 'number');
    }
  });
});
